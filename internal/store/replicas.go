package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/igny8/aiconfig/internal/domain"
)

// ReplicaLive is how recently a replica must have reported to count as live.
const ReplicaLive = 15 * time.Second

// Replica is a serving replica as it reports itself.
type Replica struct {
	ID, Host string
	PID      int
	KeyIDs   []string
}

// ReportReplica records that r is serving, with the keys it holds, and
// forgets replicas silent for an hour.
func (s *Store) ReportReplica(ctx context.Context, r Replica) error {
	_, err := s.pool.Exec(ctx, `
		WITH gone AS (DELETE FROM replicas WHERE seen_at < now() - interval '1 hour')
		INSERT INTO replicas (id, host, pid, key_ids) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET key_ids = EXCLUDED.key_ids, seen_at = now()`, r.ID, r.Host, r.PID, nonNil(r.KeyIDs))
	return mapErr(err)
}

// ForgetReplica removes a replica that stops serving.
func (s *Store) ForgetReplica(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM replicas WHERE id = $1`, id)
	return mapErr(err)
}

// replicasLacking names the live replicas that do not hold key id.
func replicasLacking(ctx context.Context, w *Write, id string) ([]string, error) {
	rows, err := w.Query(ctx, `SELECT host || ' (pid ' || pid || ')' FROM replicas
		WHERE seen_at > now() - make_interval(secs => $1) AND NOT ($2 = ANY(key_ids)) ORDER BY host, pid`, ReplicaLive.Seconds(), id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	return out, rows.Err()
}

func keyNotDeployed(id string, replicas []string) error {
	return &domain.Error{Code: domain.CodeFailedPrecondition, Reason: domain.ReasonKeyNotDeployed,
		Message: fmt.Sprintf("serving replicas %s cannot open values sealed under key %s yet: add the key to their "+
			"AICONFIG_PREVIOUS_SECRET_KEYS_FILE (they re-read it within seconds) or restart them with it, then rotate again",
			strings.Join(replicas, ", "), id),
		Metadata: map[string]string{"key_id": id, "replicas": strings.Join(replicas, ",")}}
}
