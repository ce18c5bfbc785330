package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

func createDatabase(ctx context.Context, name string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, *serverURL)
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

// seed writes the fixture straight into the tables (no audit rows): plans
// spread evenly, every third account with an OpenAI override and a
// customized clustering prompt.
func seed(ctx context.Context, dbURL string) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, q := range []string{`
		INSERT INTO accounts (id, name, plan, revision, config_revision)
		SELECT 'acct-' || i, 'Account ' || i, (ARRAY['free','starter','growth','scale'])[1 + i % 4], nextval('revision_seq'), currval('revision_seq')
		FROM generate_series(1, $1::int) i`, `
		INSERT INTO integration_overrides (account_id, integration, model, temperature, max_tokens, revision)
		SELECT 'acct-' || i, 'openai', 'gpt-4.1', 0.3, 8000, nextval('revision_seq') FROM generate_series(3, $1::int, 3) i`, `
		INSERT INTO account_prompts (account_id, prompt_type, prompt_value, default_prompt, is_customized, revision)
		SELECT 'acct-' || i, 'clustering', 'Cluster for account ' || i || ' by intent: {{keywords}}', g.text, true, nextval('revision_seq')
		FROM generate_series(3, $1::int, 3) i, global_prompts g WHERE g.prompt_type = 'clustering'`} {
		if _, err := conn.Exec(ctx, q, *accounts); err != nil {
			return err
		}
	}
	return nil
}
