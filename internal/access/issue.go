package access

import (
	"context"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/validate"
)

// TokenCreator stores new tokens.
type TokenCreator interface {
	CreateToken(ctx context.Context, t domain.Token, secretHash []byte) (domain.Token, error)
}

// IssueToken validates and stores a new token and returns it with its
// secret, which exists nowhere else afterwards. The CLI and
// TokenService.CreateToken both come here.
func IssueToken(ctx context.Context, store TokenCreator, name string, role domain.Role, accountID string) (domain.Token, string, error) {
	var c domain.Collector
	if name == "" || len(name) > 128 {
		c.Add("name", "is required, at most 128 bytes")
	}
	if !role.Valid() {
		c.Add("role", "must be ROLE_ADMIN, ROLE_SERVICE or ROLE_ACCOUNT")
	}
	if role == domain.RoleAccount {
		if err := validate.CheckAccountID("account_id", accountID); err != nil {
			c.Merge("account_id", err)
		}
	} else if accountID != "" {
		c.Add("account_id", "only ROLE_ACCOUNT tokens are bound to an account; leave it empty")
	}
	if err := c.Err(domain.ReasonValidationFailed); err != nil {
		return domain.Token{}, "", err
	}
	secret, hash := NewSecret()
	t, err := store.CreateToken(ctx, domain.Token{ID: NewTokenID(), Name: name, Role: role, AccountID: accountID}, hash)
	if err != nil {
		return domain.Token{}, "", err
	}
	return t, secret, nil
}
