"""The note's "How it works", as the platform's code does it today: the legacy
answers aiconfig's import is verified against and the drop-in is compared to.
Deliberately faithful, bugs included: the plan is never consulted (a Free
account's override applies), values are not checked against any catalog, and
a non-customized AIPrompt serves its stored default_prompt even when stale."""
from system.models import AIPrompt, GlobalAIPrompt, GlobalIntegrationSettings, IntegrationSettings

TEXT_FUNCTIONS = ("auto_cluster", "generate_ideas", "generate_content", "generate_image_prompts")
IMAGE_FUNCTIONS = ("generate_images",)
FUNCTIONS = TEXT_FUNCTIONS + IMAGE_FUNCTIONS
TEXT_FIELDS = ("model", "temperature", "max_tokens")
IMAGE_FIELDS = ("model", "image_size", "image_quality", "image_style")
# Global field per (provider, config key); None: the provider has no such default.
_GLOBAL_FIELD = {
    "model": "{p}_model", "temperature": "{p}_temperature", "max_tokens": "{p}_max_tokens",
    "image_size": "{p}_size", "image_quality": "{p}_quality", "image_style": "{p}_style",
}


def get_model_config(function_name, account):
    gs = GlobalIntegrationSettings.get_instance()
    image = function_name in IMAGE_FUNCTIONS
    provider = gs.default_image_provider if image else gs.default_text_provider
    config = {}
    row = IntegrationSettings.objects.filter(account=account, integration_type=provider).first()
    if row is not None and row.config:
        config = row.config
    out = {"api_key": getattr(gs, f"{provider}_api_key")}  # ALWAYS from global
    for field in IMAGE_FIELDS if image else TEXT_FIELDS:
        value = config.get(field)
        if value is None:
            value = getattr(gs, _GLOBAL_FIELD[field].format(p=provider), None)
        out[field] = value
    return out


def get_effective_prompt(account, prompt_type):
    row = AIPrompt.objects.filter(account=account, prompt_type=prompt_type).first()
    if row is not None:
        return row.prompt_value if row.is_customized else row.default_prompt
    return GlobalAIPrompt.objects.get(prompt_type=prompt_type).prompt_value
