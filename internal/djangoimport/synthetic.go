package djangoimport

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
)

// WriteSyntheticDump writes a dumpdata file shaped like the legacy
// project's (testdata/django) with n accounts on the four plans, one in
// ten with an OpenAI override and one in ten with a customized prompt
// (half of those from an older global text), for the import's speed
// (aiconfig-bench -import N). Deterministic for a seed.
func WriteSyntheticDump(w io.Writer, n int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	rnd := rand.New(rand.NewPCG(seed, seed))
	first := true
	obj := func(model string, pk int, fields map[string]any) error {
		sep := ",\n"
		if first {
			sep, first = "[\n", false
		}
		if _, err := bw.WriteString(sep); err != nil {
			return err
		}
		return enc.Encode(map[string]any{"model": model, "pk": pk, "fields": fields})
	}
	if err := syntheticGlobal(obj); err != nil {
		return err
	}
	plans := []string{"free", "starter", "growth", "scale"}
	models := []string{"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini"}
	for i, slug := range plans {
		if err := obj("billing.plan", i+1, map[string]any{"name": slug, "slug": slug, "monthly_price": "0.00", "is_active": true}); err != nil {
			return err
		}
	}
	over, prompt := 0, 0
	for i := 1; i <= n; i++ {
		if err := obj("accounts.account", i, map[string]any{"name": fmt.Sprintf("Account %d", i), "slug": fmt.Sprintf("account-%d", i),
			"plan": i%4 + 1, "status": "active", "created_at": "2024-01-01T00:00:00Z"}); err != nil {
			return err
		}
		if rnd.Float64() < 0.10 {
			over++
			config := map[string]any{"model": models[rnd.IntN(len(models))], "temperature": float64(rnd.IntN(150)) / 100, "max_tokens": nil}
			if err := obj("system.integrationsettings", over, map[string]any{"account": i, "integration_type": "openai", "config": config,
				"created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}); err != nil {
				return err
			}
		}
		if rnd.Float64() < 0.10 {
			prompt++
			dflt := syntheticContent
			if rnd.IntN(2) == 0 {
				dflt = "Write an article about {{idea}} using {{keywords}}."
			}
			if err := obj("system.aiprompt", prompt, map[string]any{"account": i, "prompt_type": "content_generation",
				"prompt_value": fmt.Sprintf("Article %d: {{idea}} with {{keywords}}.", i), "default_prompt": dflt, "is_customized": true,
				"created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}); err != nil {
				return err
			}
		}
	}
	if _, err := bw.WriteString("]\n"); err != nil {
		return err
	}
	return bw.Flush()
}

const syntheticContent = "Write a complete article for the idea {{idea}}.\nUse the keywords {{keywords}} naturally."

func syntheticGlobal(obj func(string, int, map[string]any) error) error {
	if err := obj("system.globalintegrationsettings", 1, map[string]any{
		"openai_api_key": "sk-synthetic-openai-00000000", "openai_model": "gpt-4o-mini", "openai_temperature": 0.7, "openai_max_tokens": 4000,
		"anthropic_api_key": "", "anthropic_model": "claude-sonnet-4-5", "anthropic_temperature": 0.7, "anthropic_max_tokens": 4000,
		"dalle_api_key": "", "dalle_model": "dall-e-3", "dalle_size": "1024x1024", "dalle_quality": "standard", "dalle_style": "vivid",
		"runware_api_key": "", "runware_model": "runware:101@1", "runware_size": "1024x1024",
		"default_text_provider": "openai", "default_image_provider": "dalle", "updated_at": "2024-01-01T00:00:00Z"}); err != nil {
		return err
	}
	prompts := [][3]any{
		{"clustering", []string{"keywords"}, "Group these keywords into topic clusters:\n{{keywords}}\nReturn JSON."},
		{"ideas", []string{"clusters"}, "Suggest article ideas for each cluster:\n{{clusters}}"},
		{"content_generation", []string{"idea", "keywords"}, syntheticContent},
		{"image_prompt_extraction", []string{"content", "max_images"}, "Find up to {{max_images}} places in this article that need an image:\n{{content}}"},
		{"image_prompt_template", []string{"image_type", "description"}, "A {{image_type}} image: {{description}}"},
		{"negative_prompt", []string{}, "blurry, watermark, text, distorted hands"},
	}
	for i, p := range prompts {
		if err := obj("system.globalaiprompt", i+1, map[string]any{"prompt_type": p[0], "variables": p[1], "prompt_value": p[2],
			"description": "", "is_active": true, "updated_at": "2024-01-01T00:00:00Z"}); err != nil {
			return err
		}
	}
	return nil
}
