// Package resolve holds the pure rules of the service: how the global
// layer, an account's override, its plan and the model catalog combine
// into a ModelConfig, and what makes a write valid. No I/O here, so the
// same functions serve cached and uncached reads and are tested exhaustively.
package resolve

import (
	"slices"

	"github.com/igny8/aiconfig/internal/domain"
)

// Catalog is the model catalog indexed by integration and model id.
type Catalog struct {
	models   map[domain.Integration]map[string]domain.Model
	revision int64
}

// NewCatalog indexes a list of models.
func NewCatalog(models []domain.Model) Catalog {
	c := Catalog{models: map[domain.Integration]map[string]domain.Model{}}
	for _, m := range models {
		if c.models[m.Integration] == nil {
			c.models[m.Integration] = map[string]domain.Model{}
		}
		c.models[m.Integration][m.ID] = m
		c.revision = max(c.revision, m.Revision)
	}
	return c
}

// Lookup finds a model, enabled or not.
func (c Catalog) Lookup(i domain.Integration, id string) (domain.Model, bool) {
	m, ok := c.models[i][id]
	return m, ok
}

// Revision is the newest revision of any entry.
func (c Catalog) Revision() int64 { return c.revision }

// EnabledIDs lists the enabled model ids of one integration, sorted.
func (c Catalog) EnabledIDs(i domain.Integration) []string {
	var ids []string
	for id, m := range c.models[i] {
		if m.Enabled {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}
