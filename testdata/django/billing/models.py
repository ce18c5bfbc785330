from django.db import models


class Plan(models.Model):
    """A subscription plan. The platform sells four (free, starter, growth,
    scale); an old "enterprise" row is still in the table."""
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    monthly_price = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    is_active = models.BooleanField(default=True)
