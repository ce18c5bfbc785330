package validate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/igny8/aiconfig/internal/domain"
)

// slugRE is the id rule of author profiles and content strategies.
var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// CheckSlug validates the id of an author profile or content strategy.
func CheckSlug(field, id string) error {
	if !slugRE.MatchString(id) {
		return domain.InvalidField(field, "must be 1-63 characters of lower-case letters, digits and '-', starting with a letter or digit (e.g. friendly-guide)")
	}
	return nil
}

// A text field's limit: characters (runes) for short fields, as people
// count them; bytes for long ones, whose limit bounds storage.
type limit struct {
	n     int
	bytes bool
}

func chars(n int) limit     { return limit{n, false} }
func kibibytes(n int) limit { return limit{n << 10, true} }

// checkText validates one text field: valid UTF-8, no NUL byte (the
// database refuses those), within its limit, and non-blank if required.
func checkText(c *domain.Collector, field, s string, max limit, required bool) {
	switch {
	case !utf8.ValidString(s):
		c.Add(field, "must be valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		c.Add(field, "must not contain NUL bytes")
	case required && strings.TrimSpace(s) == "":
		c.Add(field, "is required")
	case max.bytes && len(s) > max.n:
		c.Add(field, "is %d bytes; the limit is %d (%d KiB)", len(s), max.n, max.n>>10)
	case !max.bytes && utf8.RuneCountInString(s) > max.n:
		c.Add(field, "is %d characters; the limit is %d", utf8.RuneCountInString(s), max.n)
	}
}

// checkLanguage requires a BCP 47 tag in its canonical form ("en",
// "en-GB", "de"), so that equal languages are stored alike.
func checkLanguage(c *domain.Collector, field, tag string) {
	t, err := language.Parse(tag)
	_, conf := t.Base()
	switch {
	case tag == "":
		c.Add(field, "is required: a BCP 47 language tag such as en, en-GB or de")
	case err != nil || conf != language.Exact || strings.HasPrefix(tag, "x-"):
		c.Add(field, "%q is not a BCP 47 language tag; use one such as en, en-GB or de", tag)
	case t.String() != tag:
		c.Add(field, "write %q as %q (the tag's canonical form)", tag, t.String())
	}
}

// AuthorProfile validates a profile's fields; violations are named
// prefix+field (e.g. "author_profile.name").
func AuthorProfile(c *domain.Collector, prefix string, p domain.AuthorProfile) {
	checkText(c, prefix+"name", p.Name, chars(100), true)
	checkText(c, prefix+"description", p.Description, chars(1000), false)
	checkText(c, prefix+"tone", p.Tone, chars(200), false)
	checkLanguage(c, prefix+"language", p.Language)
	checkText(c, prefix+"audience", p.Audience, chars(500), false)
	checkText(c, prefix+"style_guide", p.StyleGuide, kibibytes(16), false)
}

// Word counts a content strategy may ask for.
const (
	MinWordCount = 100
	MaxWordCount = 10000
)

// ContentStrategy validates a strategy's fields, as AuthorProfile.
func ContentStrategy(c *domain.Collector, prefix string, s domain.ContentStrategy) {
	checkText(c, prefix+"name", s.Name, chars(100), true)
	checkText(c, prefix+"description", s.Description, chars(1000), false)
	checkText(c, prefix+"objective", s.Objective, chars(500), false)
	checkText(c, prefix+"audience", s.Audience, chars(500), false)
	if len(s.ArticleTypes) == 0 {
		c.Add(prefix+"article_types", "name at least one of %s", strings.Join(domain.ArticleTypes, ", "))
	}
	for i, t := range s.ArticleTypes {
		field := fmt.Sprintf("%sarticle_types[%d]", prefix, i)
		switch {
		case !slices.Contains(domain.ArticleTypes, t):
			c.Add(field, "unknown article type %q; allowed: %s", t, strings.Join(domain.ArticleTypes, ", "))
		case slices.Index(s.ArticleTypes, t) != i:
			c.Add(field, "%q is listed twice", t)
		}
	}
	for _, f := range []struct {
		name string
		n    int32
	}{{"word_count_min", s.WordCountMin}, {"word_count_max", s.WordCountMax}} {
		if f.n < MinWordCount || f.n > MaxWordCount {
			c.Add(prefix+f.name, "must be %d-%d, got %d", MinWordCount, MaxWordCount, f.n)
		}
	}
	if s.WordCountMin > s.WordCountMax {
		c.Add(prefix+"word_count_min", "%d is more than word_count_max %d", s.WordCountMin, s.WordCountMax)
	}
	checkText(c, prefix+"keyword_guidelines", s.KeywordGuidelines, kibibytes(4), false)
	checkText(c, prefix+"structure_guidelines", s.StructureGuidelines, kibibytes(16), false)
}

// PlanLimit validates a plan limit being set.
func PlanLimit(l domain.PlanLimit) error {
	var c domain.Collector
	if l.Plan < domain.PlanStarter || !l.Plan.Valid() {
		c.Add("plan_limit.plan", "must be PLAN_STARTER, PLAN_GROWTH or PLAN_SCALE (Free cannot create items)")
	}
	if !slices.Contains(domain.OwnKinds, l.Kind) {
		var names []string
		for _, k := range domain.OwnKinds {
			names = append(names, "ITEM_KIND_"+strings.ToUpper(k.String()))
		}
		c.Add("plan_limit.kind", "must be one of %s", strings.Join(names, ", "))
	}
	if l.MaxItems < 0 || l.MaxItems > domain.MaxPlanLimit {
		c.Add("plan_limit.max_items", "must be 0-%d, got %d", domain.MaxPlanLimit, l.MaxItems)
	}
	return c.Err(domain.ReasonValidationFailed)
}
