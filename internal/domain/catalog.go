package domain

import (
	"slices"
)

// Catalog is the model catalog indexed by integration and model id, as
// resolution and validation read it.
type Catalog struct {
	models   map[Integration]map[string]Model
	revision int64
}

// NewCatalog indexes a list of models.
func NewCatalog(models []Model) Catalog {
	c := Catalog{models: map[Integration]map[string]Model{}}
	for _, m := range models {
		if c.models[m.Integration] == nil {
			c.models[m.Integration] = map[string]Model{}
		}
		c.models[m.Integration][m.ID] = m
		c.revision = max(c.revision, m.Revision)
	}
	return c
}

// Lookup finds a model, enabled or not.
func (c Catalog) Lookup(i Integration, id string) (Model, bool) {
	m, ok := c.models[i][id]
	return m, ok
}

// Revision is the newest revision of any entry.
func (c Catalog) Revision() int64 { return c.revision }

// EnabledIDs lists the enabled model ids of one integration, sorted.
func (c Catalog) EnabledIDs(i Integration) []string {
	var ids []string
	for id, m := range c.models[i] {
		if m.Enabled {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}
