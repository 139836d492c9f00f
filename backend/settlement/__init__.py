"""Settlement (结算): prices, funding rules and eligibility, and monthly statements to providers."""
