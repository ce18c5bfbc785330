"""Seeds the legacy project with the mix aiconfig's migration must handle:
all four plans plus an old "enterprise" one, overrides with NULL fields, a
Free account with an override, an API key inside an override's config, a
model the catalog no longer offers, a value above the catalog's limit,
customized prompts whose default_prompt is stale, non-customized AIPrompt
rows (one with a stale default), and an unknown extra field
(GlobalIntegrationSettings.openai_organization). Deterministic for a seed.

    python3 manage.py seed_legacy [--accounts N] [--seed S]

Beyond the named accounts, N-13 filler accounts get an override (10%) and a
customized prompt (10%), as a generated dump for the import's speed."""
import random

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from accounts.models import Account
from billing.models import Plan
from system.models import AIPrompt, GlobalAIPrompt, GlobalIntegrationSettings, IntegrationSettings

PROMPTS = {
    "clustering": (["keywords"], "Group these keywords into topic clusters:\n{{keywords}}\nReturn JSON."),
    "ideas": (["clusters"], "Suggest article ideas for each cluster:\n{{clusters}}"),
    "content_generation": (["idea", "keywords"],
                           "Write a complete article for the idea {{idea}}.\nUse the keywords {{keywords}} naturally."),
    "image_prompt_extraction": (["content", "max_images"],
                                "Find up to {{max_images}} places in this article that need an image:\n{{content}}"),
    "image_prompt_template": (["image_type", "description"], "A {{image_type}} image: {{description}}"),
    "negative_prompt": ([], "blurry, watermark, text, distorted hands"),
}
OLD_CONTENT = "Write an article about {{idea}} using {{keywords}}."  # the platform's text before its last edit


class Command(BaseCommand):
    help = "Seed the legacy settings with the mix the aiconfig migration tests need."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=40)
        parser.add_argument("--seed", type=int, default=1)

    @transaction.atomic
    def handle(self, *args, accounts, seed, **kw):
        rnd = random.Random(seed)
        with connection.cursor() as c:  # a second run starts over
            for t in ("system_aiprompt", "system_integrationsettings", "system_globalaiprompt",
                      "system_globalintegrationsettings", "accounts_account", "billing_plan"):
                c.execute(f"DELETE FROM {t}")
        plans = {slug: Plan.objects.create(name=slug.title(), slug=slug, monthly_price=price)
                 for slug, price in (("free", 0), ("starter", 29), ("growth", 79), ("scale", 199),
                                     ("enterprise", 999))}
        GlobalIntegrationSettings.objects.create(
            pk=1, openai_api_key="sk-legacy-openai-0123456789abcdefWXYZ", openai_model="gpt-4o-mini",
            openai_temperature=0.7, openai_max_tokens=4000, openai_organization="org-legacy",
            anthropic_api_key="sk-ant-legacy-anthropic-9876543210QRST", anthropic_model="claude-sonnet-4-5",
            dalle_api_key="sk-legacy-dalle-5555555555555555DALL", dalle_model="dall-e-3",
            dalle_size="1024x1024", dalle_quality="standard", dalle_style="vivid",
            runware_api_key="", runware_model="runware:101@1", runware_size="1024x1024",
            default_text_provider="openai", default_image_provider="dalle")
        for ptype, (variables, text) in PROMPTS.items():
            GlobalAIPrompt.objects.create(prompt_type=ptype, prompt_value=text, variables=variables,
                                          description=f"The platform's {ptype.replace('_', ' ')} prompt.")
        current = PROMPTS["content_generation"][1]

        def account(name, plan):
            return Account.objects.create(name=name, slug=name.lower().replace(" ", "-"), plan=plans[plan])

        def override(acc, provider, **config):
            IntegrationSettings.objects.create(account=acc, integration_type=provider, config=config)

        def prompt(acc, ptype, value, default, customized):
            AIPrompt.objects.create(account=acc, prompt_type=ptype, prompt_value=value,
                                    default_prompt=default, is_customized=customized)

        account("Free Plain", "free")
        free = account("Free With Override", "free")
        override(free, "openai", model="gpt-4o", temperature=0.9)
        prompt(free, "ideas", "Ideas for {{clusters}}, please, in a list.", PROMPTS["ideas"][1], True)
        starter = account("Starter Nulls", "starter")
        override(starter, "openai", model="gpt-4o", temperature=None, max_tokens=2000)
        growth = account("Growth Images", "growth")
        override(growth, "openai", model="gpt-4.1", temperature=0.3)
        override(growth, "dalle", image_size="1792x1024", image_quality="hd", image_style=None)
        scale = account("Scale Anthropic", "scale")
        override(scale, "anthropic", model="claude-opus-4-1", max_tokens=8000)
        prompt(scale, "content_generation", "Write for {{idea}} in our house voice; weave in {{keywords}}.",
               current, True)
        keyed = account("Starter Own Key", "starter")
        override(keyed, "openai", model="gpt-4o-mini", api_key="sk-account-own-key-DO-NOT-IMPORT-7777")
        account("Enterprise Legacy", "enterprise")
        stale = account("Growth Stale Custom", "growth")
        prompt(stale, "content_generation", "Long-form article on {{idea}}; keywords: {{keywords}}.",
               OLD_CONTENT, True)
        plain = account("Starter Not Customized", "starter")
        prompt(plain, "clustering", PROMPTS["clustering"][1], PROMPTS["clustering"][1], False)
        prompt(plain, "content_generation", OLD_CONTENT, OLD_CONTENT, False)  # stale, served by legacy
        big = account("Starter Too Many Tokens", "starter")
        override(big, "openai", max_tokens=100000)
        gone = account("Growth Retired Model", "growth")
        override(gone, "openai", model="gpt-4", temperature=0.8, max_tokens=4000)
        empty = account("Scale Empty Config", "scale")
        override(empty, "openai")
        account("Scale Plain", "scale")

        plan_cycle = ("free", "starter", "growth", "scale")
        text_models = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini")
        filler_accounts = [Account(name=f"Account {i}", slug=f"account-{i}", plan=plans[plan_cycle[i % 4]])
                           for i in range(max(0, accounts - 13))]
        Account.objects.bulk_create(filler_accounts, batch_size=2000)
        overrides, prompts = [], []
        for acc in Account.objects.filter(slug__startswith="account-").iterator():
            if rnd.random() < 0.10:
                overrides.append(IntegrationSettings(account=acc, integration_type="openai", config={
                    "model": rnd.choice(text_models), "temperature": round(rnd.uniform(0, 1.5), 2),
                    "max_tokens": None}))
            if rnd.random() < 0.10:
                prompts.append(AIPrompt(account=acc, prompt_type="content_generation", is_customized=True,
                                        prompt_value=f"Article {acc.pk}: {{{{idea}}}} with {{{{keywords}}}}.",
                                        default_prompt=current if rnd.random() < 0.5 else OLD_CONTENT))
        IntegrationSettings.objects.bulk_create(overrides, batch_size=2000)
        AIPrompt.objects.bulk_create(prompts, batch_size=2000)
        self.stdout.write(f"seeded {Account.objects.count()} accounts")
