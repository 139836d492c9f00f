"""The field app: an installable offline web app for caregivers and community workers at /app/."""
