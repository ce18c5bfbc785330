// Package devdb gives the developer tools (make bench, make screenshots) a
// throwaway database and free local addresses for the servers they start.
// Tests use internal/pgtest instead.
package devdb

import (
	"context"
	"fmt"
	"net"

	"github.com/jackc/pgx/v5"
)

// Create creates database name on the server adminURL points at and
// returns its URL and a function that drops it (forcing out any sessions).
func Create(ctx context.Context, adminURL, name string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", nil, err
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	cfg := conn.Config()
	url := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
	return url, func() {
		_, _ = conn.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
		conn.Close(context.Background())
	}, nil
}

// FreeAddr is a loopback address with a port free at the moment of asking.
func FreeAddr() (string, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer lis.Close()
	return lis.Addr().String(), nil
}
