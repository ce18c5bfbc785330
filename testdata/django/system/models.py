"""The note's four settings models, field for field."""
from django.db import models

INTEGRATION_TYPES = [("openai", "OpenAI"), ("anthropic", "Anthropic"), ("dalle", "DALL-E"), ("runware", "Runware")]


class GlobalIntegrationSettings(models.Model):
    """Singleton (pk=1): the platform's API keys and default models and parameters."""
    openai_api_key = models.CharField(max_length=200, blank=True, default="")
    openai_model = models.CharField(max_length=100, default="gpt-4o-mini")
    openai_temperature = models.FloatField(default=0.7)
    openai_max_tokens = models.IntegerField(default=4000)
    # Not one of the note's fields: a platform addition the import's mapping does not know.
    openai_organization = models.CharField(max_length=100, blank=True, default="")
    anthropic_api_key = models.CharField(max_length=200, blank=True, default="")
    anthropic_model = models.CharField(max_length=100, default="claude-sonnet-4-5")
    anthropic_temperature = models.FloatField(default=0.7)
    anthropic_max_tokens = models.IntegerField(default=4000)
    dalle_api_key = models.CharField(max_length=200, blank=True, default="")
    dalle_model = models.CharField(max_length=100, default="dall-e-3")
    dalle_size = models.CharField(max_length=20, default="1024x1024")
    dalle_quality = models.CharField(max_length=20, default="standard")
    dalle_style = models.CharField(max_length=20, default="vivid")
    runware_api_key = models.CharField(max_length=200, blank=True, default="")
    runware_model = models.CharField(max_length=100, default="runware:101@1")
    runware_size = models.CharField(max_length=20, default="1024x1024")
    default_text_provider = models.CharField(max_length=20, default="openai")
    default_image_provider = models.CharField(max_length=20, default="dalle")
    updated_at = models.DateTimeField(auto_now=True)

    @classmethod
    def get_instance(cls):
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class IntegrationSettings(models.Model):
    """Per-account overrides: config holds model, temperature, max_tokens,
    image_size, image_quality, image_style; NULL or missing = global default.
    NEVER store API keys here."""
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="integration_settings")
    integration_type = models.CharField(max_length=20, choices=INTEGRATION_TYPES)
    config = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        unique_together = [("account", "integration_type")]


class GlobalAIPrompt(models.Model):
    """Platform-wide default prompt templates."""
    prompt_type = models.CharField(max_length=50, unique=True)
    prompt_value = models.TextField()
    description = models.TextField(blank=True, default="")
    variables = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)


class AIPrompt(models.Model):
    """Per-account prompts; default_prompt is the global text at customization."""
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="ai_prompts")
    prompt_type = models.CharField(max_length=50)
    prompt_value = models.TextField()
    default_prompt = models.TextField(blank=True, default="")
    is_customized = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        unique_together = [("account", "prompt_type")]

    @classmethod
    def get_effective_prompt(cls, account, prompt_type):
        from system.legacy import get_effective_prompt
        return get_effective_prompt(account, prompt_type)
