// Package domaintest holds test fixtures shaped like the seeded data, and
// assertions on domain errors, for the pure packages' tests.
package domaintest

import (
	"errors"
	"testing"

	"github.com/igny8/aiconfig/internal/domain"
)

// Ptr is a pointer to v.
func Ptr[T any](v T) *T { return &v }

// Catalog mirrors the shape of the seeded catalog.
func Catalog() domain.Catalog {
	return domain.NewCatalog([]domain.Model{
		{Integration: domain.OpenAI, ID: "gpt-4o-mini", Enabled: true, MaxOutputTokens: Ptr[int32](16384), MinTemperature: Ptr(0.0), MaxTemperature: Ptr(2.0), Revision: 3},
		{Integration: domain.OpenAI, ID: "gpt-4o", Enabled: true, MaxOutputTokens: Ptr[int32](16384), MinTemperature: Ptr(0.0), MaxTemperature: Ptr(2.0), Revision: 4},
		{Integration: domain.OpenAI, ID: "gpt-4.1", Enabled: true, MaxOutputTokens: Ptr[int32](32768), MinTemperature: Ptr(0.0), MaxTemperature: Ptr(2.0), Revision: 5},
		{Integration: domain.OpenAI, ID: "gpt-5", Enabled: true, MaxOutputTokens: Ptr[int32](128000), Revision: 6},
		{Integration: domain.OpenAI, ID: "gpt-4-legacy", Enabled: false, MaxOutputTokens: Ptr[int32](8192), MinTemperature: Ptr(0.0), MaxTemperature: Ptr(2.0), Revision: 7},
		{Integration: domain.Anthropic, ID: "claude-sonnet-4-5", Enabled: true, MaxOutputTokens: Ptr[int32](64000), MinTemperature: Ptr(0.0), MaxTemperature: Ptr(1.0), Revision: 8},
		{Integration: domain.DallE, ID: "dall-e-3", Enabled: true, ImageSizes: []string{"1024x1024", "1792x1024"}, ImageQualities: []string{"standard", "hd"}, ImageStyles: []string{"vivid", "natural"}, Revision: 9},
		{Integration: domain.DallE, ID: "dall-e-2", Enabled: true, ImageSizes: []string{"256x256", "1024x1024"}, ImageQualities: []string{"standard"}, Revision: 10},
		{Integration: domain.DallE, ID: "gpt-image-1", Enabled: true, ImageSizes: []string{"1024x1024", "1536x1024"}, ImageQualities: []string{"auto", "low", "high"}, Revision: 11},
		{Integration: domain.Runware, ID: "runware:101@1", Enabled: true, ImageSizes: []string{"1024x1024"}, Revision: 12},
	})
}

// Global is global settings over Catalog.
func Global() domain.GlobalSettings {
	return domain.GlobalSettings{
		Defaults: map[domain.Integration]domain.Defaults{
			domain.OpenAI:    {Integration: domain.OpenAI, APIKey: domain.SealedKey{Sealed: "sealed-openai", Hint: "…0001"}, Params: domain.Params{Model: Ptr("gpt-4o-mini"), Temperature: Ptr(0.7), MaxTokens: Ptr[int32](4000)}},
			domain.Anthropic: {Integration: domain.Anthropic, Params: domain.Params{Model: Ptr("claude-sonnet-4-5"), Temperature: Ptr(0.7), MaxTokens: Ptr[int32](4000)}},
			domain.DallE:     {Integration: domain.DallE, APIKey: domain.SealedKey{Sealed: "sealed-dalle", Hint: "…0002"}, Params: domain.Params{Model: Ptr("dall-e-3"), ImageSize: Ptr("1024x1024"), ImageQuality: Ptr("standard"), ImageStyle: Ptr("vivid")}},
			domain.Runware:   {Integration: domain.Runware, Params: domain.Params{Model: Ptr("runware:101@1"), ImageSize: Ptr("1024x1024")}},
		},
		TextIntegration: domain.OpenAI, ImageIntegration: domain.DallE, Revision: 20,
	}
}

// WantViolation asserts err is INVALID_ARGUMENT with reason and a violation on field.
func WantViolation(t *testing.T, err error, reason, field string) {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.CodeInvalid {
		t.Fatalf("err = %v, want INVALID_ARGUMENT", err)
	}
	if de.Reason != reason {
		t.Errorf("reason = %s, want %s", de.Reason, reason)
	}
	for _, v := range de.Violations {
		if v.Field == field {
			return
		}
	}
	t.Errorf("violations %+v name no field %q", de.Violations, field)
}
