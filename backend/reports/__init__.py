"""Monthly reports (月报): figures per region, provider and caregiver, as JSON, CSV, XLSX and PDF."""
