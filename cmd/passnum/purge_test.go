package main

import (
	"context"
	"testing"
	"time"

	"passnum/ledger"
	"passnum/redemption"
)

// TestServePurgesOldAnswers: serve purges, in the background, the answers
// to refused baskets older than their retention, and keeps the rest.
func TestServePurgesOldAnswers(t *testing.T) {
	eachDialect(t, func(t *testing.T, _ ledger.Dialect, _ string, env []string) {
		mustRun(t, env, "init")
		mustRun(t, env, "department", "add", "78", "Yvelines")
		mustRun(t, env, "venue", "add", "Médiathèque", "--department", "78", "--siret", "73282932000074", "--iban", "FR7630006000011234567890189")
		_, db := issuingOf(t, env)
		ctx := context.Background()
		now := time.Now().UTC()
		answer := `{"accepted":false}`
		for key, at := range map[string]time.Time{"old-refused": now.Add(-redemption.AnswerRetention - time.Minute),
			"recent-refused": now.Add(-time.Hour), "old-accepted": now.Add(-redemption.AnswerRetention - time.Minute)} {
			row := ledger.IdempotencyKey{VenueID: 1, Key: key, RequestSHA256: []byte{1}, State: "done", Response: &answer,
				Accepted: key == "old-accepted", CreatedAt: at, UpdatedAt: at}
			if err := db.Read(ctx).Create(&row).Error; err != nil {
				t.Fatal(err)
			}
		}
		startServer(t, env)
		deadline := time.Now().Add(10 * time.Second)
		for {
			var keys []string
			if err := db.Read(ctx).Model(&ledger.IdempotencyKey{}).Order("key").Pluck("key", &keys).Error; err != nil {
				t.Fatal(err)
			}
			if len(keys) == 2 && keys[0] == "old-accepted" && keys[1] == "recent-refused" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("10 s after serve started, the answers kept are %v: want old-accepted and recent-refused", keys)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
