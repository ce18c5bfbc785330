package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/buildinfo"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/gitops"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/store"
)

type migrateCmd struct {
	Up      migrateUpCmd      `cmd:"" help:"Apply every pending migration (seals plaintext API keys of old schemas with AICONFIG_SECRET_KEY)."`
	Down    migrateDownCmd    `cmd:"" help:"Roll back the newest migration only."`
	Version migrateVersionCmd `cmd:"" help:"Print the schema version and the one this binary expects."`
}

type migrateUpCmd struct {
	dbFlag
	CreateDatabase bool `name:"create-database" help:"First create the database the URL names if it does not exist (as make run does)."`
}

func (c *migrateUpCmd) Run(e *env) error {
	url, err := c.url()
	if err != nil {
		return err
	}
	keys, err := secret.FromEnv()
	if err != nil {
		return err
	}
	if c.CreateDatabase {
		created, err := store.CreateDatabase(context.Background(), url)
		if err != nil {
			return err
		}
		if created {
			fmt.Fprintln(e.stderr, "aiconfigd: created the database")
		}
	}
	return store.MigrateUp(url, keys)
}

type migrateDownCmd struct{ dbFlag }

func (c *migrateDownCmd) Run() error {
	url, err := c.url()
	if err != nil {
		return err
	}
	return store.MigrateDown(url)
}

type migrateVersionCmd struct{ dbFlag }

func (c *migrateVersionCmd) Run(e *env) error {
	url, err := c.url()
	if err != nil {
		return err
	}
	v, dirty, err := store.SchemaVersion(url)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "version %d (dirty=%t, this binary expects %d)\n", v, dirty, store.ExpectedVersion())
	return nil
}

type tokenCmd struct {
	Create tokenCreateCmd `cmd:"" help:"Create a token and print its secret alone on stdout (shown once, stored only as a hash)."`
	List   tokenListCmd   `cmd:"" help:"List tokens: id, name, role, account, times (never a secret: only hashes are stored)."`
	Revoke tokenRevokeCmd `cmd:"" help:"Revoke a token by id; it fails at once on every replica."`
}

type tokenCreateCmd struct {
	dbFlag
	Role    string `name:"role" required:"" placeholder:"ROLE" help:"admin, service or account."`
	Name    string `name:"name" required:"" help:"Who holds the token (e.g. worker-1); logs and audit rows name the caller by it."`
	Account string `name:"account" placeholder:"ID" help:"The account a role account token is bound to."`
}

func (c *tokenCreateCmd) Run(e *env) error {
	role, err := domain.ParseRole(strings.TrimPrefix(strings.ToLower(c.Role), "role_"))
	if err != nil {
		return err
	}
	ctx := cliContext("token create")
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	t, secret, err := access.IssueToken(ctx, st, c.Name, role, c.Account)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, secret) // the secret alone, so scripts can capture it
	// Names may repeat, so that a token can be replaced without downtime
	// under the name logs and audit filters use (create, deploy, revoke
	// the old one); say so, in case the repeat was a mistake.
	all, err := listTokens(ctx, st, false)
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.Name == t.Name && o.ID != t.ID {
			fmt.Fprintf(e.stderr, "aiconfigd: note: token %s is also named %q and still active; once it is replaced: aiconfigd token revoke %s\n", o.ID, o.Name, o.ID)
		}
	}
	return nil
}

type tokenListCmd struct {
	dbFlag
	All bool `name:"all" help:"Include revoked tokens."`
}

func (c *tokenListCmd) Run(e *env) error {
	ctx := context.Background()
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	all, err := listTokens(ctx, st, c.All)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tROLE\tACCOUNT\tCREATED\tREVOKED")
	for _, t := range all {
		revoked := "-"
		if t.RevokedAt != nil {
			revoked = t.RevokedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, orDash(t.AccountID), t.CreatedAt.UTC().Format(time.RFC3339), revoked)
	}
	return w.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// listTokens reads every token, page by page, in id order.
func listTokens(ctx context.Context, st *store.Store, includeRevoked bool) ([]domain.Token, error) {
	var all []domain.Token
	after := ""
	for {
		page, err := st.ListTokens(ctx, after, 500, includeRevoked)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < 500 {
			return all, nil
		}
		after = page[len(page)-1].ID
	}
}

type tokenRevokeCmd struct {
	dbFlag
	ID string `arg:"" name:"id" help:"The token's id (aiconfigd token list shows it)."`
}

func (c *tokenRevokeCmd) Run(e *env) error {
	ctx := cliContext("token revoke")
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	t, err := st.RevokeToken(ctx, c.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "token %s (%s, %s) revoked at %s\n", t.ID, t.Name, t.Role, t.RevokedAt.UTC().Format(time.RFC3339))
	return nil
}

type secretsCmd struct {
	Rotate secretsRotateCmd `cmd:"" help:"Re-seal every stored API key under AICONFIG_SECRET_KEY, in one transaction."`
}

type secretsRotateCmd struct{ dbFlag }

func (secretsRotateCmd) Help() string {
	return "The new key goes in AICONFIG_SECRET_KEY (or AICONFIG_SECRET_KEY_FILE), the old one in AICONFIG_PREVIOUS_SECRET_KEYS (comma-separated); keys are read from the environment only."
}

func (c *secretsRotateCmd) Run(e *env) error {
	keys, err := secret.FromEnv()
	if err != nil {
		return err
	}
	ctx := cliContext("secrets rotate")
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.RotateKeys(ctx, keys)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "re-sealed %d API keys under key %s\n", n, keys.ActiveID())
	return nil
}

type exportCmd struct {
	dbFlag
	Out string `name:"out" placeholder:"FILE" help:"Write to this file instead of standard output."`
}

// Help is export --help's description, above the flags.
func (exportCmd) Help() string {
	return `Writes the global layer as YAML, deterministically (the same data gives
the same bytes), for review and version control:

  settings            text and image integrations, each provider's default
                      model and parameters (never an API key), and the
                      platform's default author profile and content strategy
  models              the model catalog, with each model's limits
  prompts             the global prompts: text, description, variables
  author_profiles     the global author profiles (archived ones flagged)
  content_strategies  the global content strategies (archived ones flagged)
  plan_limits         how many own items each plan keeps, per kind

Accounts, their overrides and items, tokens and the audit log are not
exported. aiconfigd import reads the same format back.`
}

func (c *exportCmd) Run(e *env) error {
	ctx := context.Background()
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	l, err := st.LoadGlobalLayer(ctx)
	if err != nil {
		return err
	}
	b, err := gitops.Export(l)
	if err != nil {
		return err
	}
	if c.Out != "" {
		return os.WriteFile(c.Out, b, 0o644)
	}
	_, err = e.stdout.Write(b)
	return err
}

type importCmd struct {
	dbFlag
	File   string `arg:"" placeholder:"FILE" help:"The YAML file (as export writes it); - reads standard input."`
	DryRun bool   `name:"dry-run" help:"Show what would change and change nothing."`
}

func (importCmd) Help() string {
	return `The file is checked whole first (every bad entry named, with its path), then each change is listed, field by field:

  ~ settings.openai.temperature: 0.7 → 0.5
  + model anthropic/claude-3-5-haiku

Without --dry-run every change is applied in one audited transaction, or none is. Entries the file does not list are left as they are.`
}

func (c *importCmd) Run(e *env) error {
	var data []byte
	var err error
	if c.File == "-" {
		data, err = io.ReadAll(e.stdin)
	} else {
		data, err = os.ReadFile(c.File)
	}
	if err != nil {
		return err
	}
	ctx := cliContext("import")
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	plan, err := gitops.Import(ctx, st, data, c.DryRun)
	if err != nil {
		return err
	}
	for _, line := range plan.Diff {
		fmt.Fprintln(e.stdout, line)
	}
	switch {
	case plan.Empty():
		fmt.Fprintln(e.stdout, "no changes")
	case c.DryRun:
		fmt.Fprintf(e.stdout, "dry run: %d changes shown, nothing applied\n", len(plan.Diff))
	default:
		fmt.Fprintf(e.stdout, "applied %d changes\n", len(plan.Diff))
	}
	return nil
}

type versionCmd struct{}

func (versionCmd) Run(e *env) error {
	i := buildinfo.Get()
	commit := i.Commit
	if commit == "" {
		commit = "unknown"
	}
	fmt.Fprintf(e.stdout, "aiconfigd %s\ncommit %s\n%s\nschema version %d\n", i.Version, commit, i.GoVersion, store.ExpectedVersion())
	return nil
}
