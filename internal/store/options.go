package store

import "github.com/jackc/pgx/v5/pgxpool"

// Option adjusts the pool Open builds, beyond what the URL says.
type Option func(*pgxpool.Config)

// MaxConns caps the pool at n connections; 0 leaves the URL's
// pool_max_conns, else pgx's default (the larger of 4 and the CPU count).
func MaxConns(n int32) Option {
	return func(c *pgxpool.Config) {
		if n > 0 {
			c.MaxConns = n
		}
	}
}
