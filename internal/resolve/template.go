package resolve

import (
	"errors"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/render"
)

// Render is render.Render (the one implementation, shared with the Go
// client) with its failure as the server's INVALID_ARGUMENT domain error.
func Render(text string, declared []string, vars map[string]string) (string, error) {
	out, err := render.Render(text, declared, vars)
	var re *render.Error
	if errors.As(err, &re) {
		vs := make([]domain.Violation, len(re.Violations))
		for i, v := range re.Violations {
			vs[i] = domain.Violation{Field: v.Field, Description: v.Description}
		}
		return "", domain.Invalid(re.Reason, vs...)
	}
	return out, err
}
