package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// chaosMode is how hard one run of TestChaos shakes the system.
type chaosMode struct {
	load     time.Duration // how long clients redeem while replicas are killed
	vouchers int           // issued; the clients stop early if they run out
	replicas int
	clients  int
	minKills int // SIGKILLs the run must reach, or it proved too little
	// pgRestarts are the shutdown modes of the PostgreSQL restarts spread
	// over the load: "immediate" is a crash (recovery from the WAL at the
	// next start), "fast" a clean stop that cuts every connection.
	pgRestarts []string
}

var chaosModes = map[string]chaosMode{
	// CI runs this one after `make test`, which takes 16 minutes or so of
	// CI's 20: 60 s of load, about 90 s in all.
	"short": {load: 60 * time.Second, vouchers: 30_000, replicas: 3, clients: 16, minKills: 12,
		pgRestarts: []string{"immediate"}},
	// `make chaos`.
	"long": {load: 10 * time.Minute, vouchers: 250_000, replicas: 3, clients: 16, minKills: 150,
		pgRestarts: []string{"fast", "immediate", "fast"}},
}

// TestChaos proves crash safety with several replicas (issue #7). Replicas
// of `passnum serve` share one PostgreSQL database; clients redeem baskets
// through any of them, each basket under its own Idempotency-Key, retrying
// the same key and body (on another replica) after a network error, a 5xx
// or a 409 until they get a final answer. Meanwhile replicas are killed
// with SIGKILL at random moments (the one sealing the ledger among them,
// or all at once) and restarted, and PostgreSQL itself is stopped and
// started under load. Afterwards, every redemption a client saw accepted
// is in the ledger with exactly its vouchers, no basket is half applied, no
// voucher is spent twice, every key got the same answer each time it was
// sent, and `passnum audit verify` passes.
//
// It runs only when PASSNUM_CHAOS is "short" (CI, after `make test`) or
// "long" (`make chaos`): it restarts the PostgreSQL server, which would cut
// the connections of every other test that `make test` runs in parallel on
// that server. Its figures are in docs/RELIABILITY.md.
func TestChaos(t *testing.T) {
	modeName := os.Getenv("PASSNUM_CHAOS")
	if modeName == "" {
		t.Skip("the chaos test restarts PostgreSQL: run it alone with `make chaos` or `make chaos-short` (PASSNUM_CHAOS=short|long)")
	}
	mode, ok := chaosModes[modeName]
	if !ok {
		t.Fatalf("PASSNUM_CHAOS=%q: use short or long", modeName)
	}
	base := os.Getenv("PASSNUM_TEST_DATABASE_URL")
	if base == "" {
		t.Fatal("PASSNUM_CHAOS is set but PASSNUM_TEST_DATABASE_URL is not: give the PostgreSQL server to shake (make chaos sets the local one)")
	}
	pg := localCluster(t, base)
	started := time.Now()

	dbURL := ledgertest.URL(t, ledger.Postgres)
	env, key, pool := chaosProgramme(t, dbURL, mode.vouchers)
	t.Logf("programme ready in %s: %d vouchers", time.Since(started).Round(time.Millisecond), len(pool))

	monitor := pgPool(t, dbURL, "chaos-monitor")
	c := &chaosRun{t: t, mode: mode, pg: pg, key: key, db: monitor, gen: &basketMaker{pool: pool}, serverCodes: map[string]int{},
		http: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	logDir := os.Getenv("PASSNUM_CHAOS_LOGS") // to keep the servers' logs
	if logDir == "" {
		logDir = t.TempDir()
	}
	for i := range mode.replicas {
		name := fmt.Sprintf("chaos-replica-%d", i+1)
		u, err := url.Parse(dbURL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("application_name", name) // tells which replica holds the sealer lock (pg_stat_activity)
		u.RawQuery = q.Encode()
		f, err := os.Create(filepath.Join(logDir, name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r := &replica{name: name, addr: freeAddr(t), env: append(slices.Clone(env), "PASSNUM_DATABASE_URL="+u.String()), log: f, run: c}
		if err := r.start(); err != nil {
			t.Fatal(err)
		}
		c.replicas = append(c.replicas, r)
	}
	defer func() {
		if t.Failed() {
			for _, r := range c.replicas {
				t.Logf("last lines of %s's log:\n%s", r.name, tail(r.log.Name(), 15))
			}
		}
		for _, r := range c.replicas {
			r.kill(false) // a test that failed halfway leaves no process behind
		}
	}()

	// Load and chaos.
	loadStart := time.Now()
	var clients sync.WaitGroup
	for i := range mode.clients {
		clients.Go(func() { c.client(uint64(i)) })
	}
	defer func() {
		// On a failure halfway, no client may report after the test ends.
		c.abort.Store(true)
		waitGroupWithin(&clients, time.Minute)
	}()
	c.chaos(loadStart)
	c.stopping.Store(true)
	if !waitGroupWithin(&clients, 4*time.Minute) {
		t.Fatal("clients still had no final answer 4 minutes after the chaos ended: a request hangs")
	}
	loadTime := time.Since(loadStart)

	// The servers seal by themselves what the chaos left pending.
	if !waitFor(10*time.Second, 50*time.Millisecond, func() bool { return c.unsealed() == 0 }) {
		t.Errorf("%d events still unsealed 10 s after the load, with every replica up: the sealer stopped", c.unsealed())
	}
	c.chaosRequests, c.chaosRetries = c.requests.Load(), c.retries.Load()
	disagree := c.replayAll()
	for _, r := range c.replicas {
		if err := r.stop(); err != nil {
			t.Error(err)
		}
	}
	var logErrors int
	for _, r := range c.replicas {
		data, _ := os.ReadFile(r.log.Name())
		if i := strings.Index(string(data), "panic"); i >= 0 {
			t.Errorf("%s panicked: %s", r.name, data[i:min(len(data), i+500)])
		}
		logErrors += strings.Count(string(data), `"level":"ERROR"`)
	}

	ck := c.checkLedger()
	audit := c.audit(env)

	f := c.figures(modeName, loadTime, time.Since(started), ck, disagree, logErrors, audit)
	t.Log("\n" + f)
	if out := os.Getenv("PASSNUM_CHAOS_REPORT"); out != "" {
		if err := os.WriteFile(out, []byte(f), 0o644); err != nil {
			t.Error(err)
		}
	}
	switch k := int(c.kills.Load()); {
	case k < mode.minKills:
		t.Errorf("only %d replicas were killed (want at least %d): the run proved too little", k, mode.minKills)
	case c.sealerKills.Load() == 0:
		t.Error("the replica holding the sealer lock was never caught: no kill proved that sealing moves to another replica")
	case int(c.pgRestarts.Load()) != len(mode.pgRestarts):
		t.Errorf("%d PostgreSQL restarts, want %d", c.pgRestarts.Load(), len(mode.pgRestarts))
	}
	if c.outOfVouchers.Load() {
		t.Logf("note: the clients used every voucher before the load ended; PASSNUM_CHAOS=%s may issue more", modeName)
	}
}

// chaosRun is the state shared by the clients, the chaos and the checks.
type chaosRun struct {
	t        *testing.T
	mode     chaosMode
	pg       cluster
	key      string
	db       *pgxpool.Pool
	gen      *basketMaker
	http     *http.Client
	replicas []*replica
	stopping atomic.Bool // no new baskets; those in flight finish
	abort    atomic.Bool // the test failed: clients give up at once

	// Figures.
	requests, retries                atomic.Int64
	netErrors, serverErrors          atomic.Int64
	inProgress                       atomic.Int64 // 409 request_in_progress
	outageErrors                     atomic.Int64 // 5xx while PostgreSQL restarted
	pgDown                           atomic.Bool
	accepted, rejected               atomic.Int64
	doubleSubmits, concurrentSubmits atomic.Int64
	replays                          atomic.Int64
	chaosRequests, chaosRetries      int64 // before the final replay
	kills, sealerKills, killAlls     atomic.Int64
	pgRestarts                       atomic.Int64
	outOfVouchers                    atomic.Bool
	mu                               sync.Mutex
	takeovers                        []time.Duration // sealer killed → another replica sealed new events
	pgNotes                          []string
	serverCodes                      map[string]int // "500 internal": 5xx answers by status and error code
}

// --- The programme -------------------------------------------------------

type poolVoucher struct {
	code   string
	serial int64
}

// chaosProgramme is benchProgramme with each voucher's serial kept.
func chaosProgramme(t *testing.T, dbURL string, n int) (env []string, key string, pool []poolVoucher) {
	env, key, vouchers := benchProgramme(t, dbURL, n)
	for _, v := range vouchers {
		pool = append(pool, poolVoucher{code: v.Code, serial: v.Serial})
	}
	return env, key, pool
}

// basket is one session's vouchers and every final answer its key got.
type basket struct {
	n       int
	key     string
	vouch   []poolVoucher
	body    string
	answers []answer // the first is what the client acted on
}

// basketMaker hands out baskets of 1 to 3 distinct fresh vouchers; about
// one in twelve also takes a voucher of a recent basket, so that two
// baskets compete for it and one of them must be refused.
type basketMaker struct {
	mu   sync.Mutex
	pool []poolVoucher
	next int
	made []*basket
}

func (g *basketMaker) basket(rng *rand.Rand) (*basket, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	b := &basket{n: len(g.made), key: fmt.Sprintf("chaos-%07d", len(g.made))}
	size := 1 + rng.IntN(3)
	if b.n%12 == 11 && len(g.made) > 0 {
		other := g.made[len(g.made)-1-rng.IntN(min(32, len(g.made)))]
		b.vouch = append(b.vouch, other.vouch[rng.IntN(len(other.vouch))])
		size--
	}
	if g.next+size > len(g.pool) {
		return nil, false
	}
	b.vouch = append(b.vouch, g.pool[g.next:g.next+size]...)
	g.next += size
	rng.Shuffle(len(b.vouch), func(i, j int) { b.vouch[i], b.vouch[j] = b.vouch[j], b.vouch[i] })
	items := make([]string, len(b.vouch))
	for i, v := range b.vouch {
		items[i] = `{"code":"` + v.code + `"}`
	}
	b.body = `{"session":"chaos","items":[` + strings.Join(items, ",") + `]}`
	g.made = append(g.made, b)
	return b, true
}

// --- Clients --------------------------------------------------------------

// answer is a final answer to a basket: 201 accepted, or 422
// basket_rejected with the verdict on each voucher.
type answer struct {
	status   int
	result   wireResult
	replayed bool
}

type wireResult struct {
	RedemptionID int64         `json:"redemption_id"`
	Accepted     bool          `json:"accepted"`
	TotalCents   int64         `json:"total_cents"`
	ScannedAt    time.Time     `json:"scanned_at"`
	ReceivedAt   time.Time     `json:"received_at"`
	Items        []wireVerdict `json:"items"`
}

type wireVerdict struct {
	Index        int    `json:"index"`
	Accepted     bool   `json:"accepted"`
	Reason       string `json:"reason"`
	Serial       int64  `json:"serial"`
	ValueCents   int64  `json:"value_cents"`
	ByThisVenue  bool   `json:"by_this_venue"`
	RedemptionID int64  `json:"redemption_id"`
}

func (a answer) String() string {
	return fmt.Sprintf("%d %+v (replayed %v)", a.status, a.result, a.replayed)
}

// client redeems baskets until the chaos ends. Now and then it sends a
// basket twice at once to two replicas, as a phone retrying while its first
// request still runs; or again after its answer, as a volunteer tapping
// twice.
func (c *chaosRun) client(seed uint64) {
	rng := rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano())))
	for !c.stopping.Load() && !c.abort.Load() {
		b, ok := c.gen.basket(rng)
		if !ok {
			c.outOfVouchers.Store(true)
			return
		}
		first := rng.IntN(len(c.replicas))
		var a answer
		if rng.IntN(25) == 0 {
			c.concurrentSubmits.Add(1)
			var other answer
			var otherOK bool
			var wg sync.WaitGroup
			wg.Go(func() { other, otherOK = c.submit(b, first+1) })
			a, ok = c.submit(b, first)
			wg.Wait()
			if ok && otherOK {
				b.answers = append(b.answers, other)
			}
		} else {
			a, ok = c.submit(b, first)
		}
		if !ok {
			return
		}
		b.answers = append([]answer{a}, b.answers...)
		if a.result.Accepted {
			c.accepted.Add(1)
		} else {
			c.rejected.Add(1)
		}
		if rng.IntN(20) == 0 {
			c.doubleSubmits.Add(1)
			if again, ok := c.submit(b, rng.IntN(len(c.replicas))); ok {
				b.answers = append(b.answers, again)
			}
		}
	}
}

// submit sends the basket until it gets a final answer, starting on
// replica first and moving to the next one after each failure. It gives up
// (and fails the test) only after 3 minutes: longer than any outage the
// chaos causes.
func (c *chaosRun) submit(b *basket, first int) (answer, bool) {
	start := time.Now()
	for attempt := 0; !c.abort.Load(); attempt++ {
		c.requests.Add(1)
		if attempt > 0 {
			c.retries.Add(1)
		}
		r := c.replicas[(first+attempt)%len(c.replicas)]
		a, wait, err := c.post(r.url(), b)
		if err == nil {
			return a, true
		}
		if wait < 0 {
			c.t.Errorf("basket %s: %v", b.key, err)
			return answer{}, false
		}
		if time.Since(start) > 3*time.Minute {
			c.t.Errorf("basket %s: no final answer after %d attempts in 3 minutes; last: %v", b.key, attempt+1, err)
			return answer{}, false
		}
		time.Sleep(wait)
	}
	return answer{}, false
}

// post sends the basket once. An error with wait >= 0 is worth retrying
// after wait; with wait < 0 it is an answer the API must never give.
func (c *chaosRun) post(base string, b *basket) (answer, time.Duration, error) {
	backoff := time.Duration(20+rand.IntN(200)) * time.Millisecond
	req, err := http.NewRequest("POST", base+"/api/v1/redemptions", strings.NewReader(b.body))
	if err != nil {
		return answer{}, -1, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", b.key)
	resp, err := c.http.Do(req)
	if err != nil {
		c.netErrors.Add(1)
		return answer{}, backoff, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.netErrors.Add(1)
		return answer{}, backoff, err
	}
	a := answer{status: resp.StatusCode, replayed: resp.Header.Get("Idempotent-Replayed") == "true"}
	var e struct {
		Error  struct{ Code string }
		Result *wireResult
	}
	switch {
	case resp.StatusCode == http.StatusCreated:
		if err := json.Unmarshal(body, &a.result); err != nil || !a.result.Accepted || a.result.RedemptionID == 0 {
			return a, -1, fmt.Errorf("201 without an accepted redemption (%v): %s", err, body)
		}
		return a, 0, nil
	case resp.StatusCode >= 500:
		c.serverErrors.Add(1)
		if c.pgDown.Load() {
			c.outageErrors.Add(1)
		}
		json.Unmarshal(body, &e)
		c.mu.Lock()
		c.serverCodes[fmt.Sprintf("%d %s", resp.StatusCode, e.Error.Code)]++
		c.mu.Unlock()
		return a, backoff, fmt.Errorf("%d: %s", resp.StatusCode, body)
	case json.Unmarshal(body, &e) != nil:
		return a, -1, fmt.Errorf("%d with a body that is not an error: %s", resp.StatusCode, body)
	case resp.StatusCode == http.StatusConflict && e.Error.Code == "request_in_progress":
		c.inProgress.Add(1)
		// The first request runs, or its replica died and PostgreSQL has
		// not yet noticed: wait as the server asks.
		s, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return a, min(time.Duration(s)*time.Second, 5*time.Second) + backoff, errors.New("409 request_in_progress")
	case resp.StatusCode == http.StatusUnprocessableEntity && e.Error.Code == "basket_rejected" && e.Result != nil:
		a.result = *e.Result
		return a, 0, nil
	}
	return a, -1, fmt.Errorf("unexpected answer %d: %s", resp.StatusCode, body)
}

// replayAll sends every basket once more through some replica: each must
// get its first answer back, marked as replayed. It returns the number of
// keys whose answers disagree.
func (c *chaosRun) replayAll() (disagree int) {
	baskets := c.gen.made
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range c.mode.clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(baskets) {
					return
				}
				b := baskets[i]
				if len(b.answers) == 0 {
					continue // its client failed the test already
				}
				c.replays.Add(1)
				if a, ok := c.submit(b, (w+i)%len(c.replicas)); ok {
					b.answers = append(b.answers, a)
				}
			}
		})
	}
	wg.Wait()
	report := c.reporter()
	for _, b := range baskets {
		originals := 0
		for i, a := range b.answers {
			if !a.replayed {
				originals++
			}
			if i > 0 && (a.status != b.answers[0].status || !reflect.DeepEqual(a.result, b.answers[0].result)) {
				report(&disagree, "key %s: answer %d differs from the first:\n first %v\n later %v", b.key, i, b.answers[0], a)
				break
			}
		}
		// Every answer but the one that did the work is a replay; that one
		// may have been lost to a killed replica.
		if originals > 1 {
			report(&disagree, "key %s: %d answers not marked Idempotent-Replayed: the basket was judged more than once", b.key, originals)
		}
	}
	return disagree
}

// --- Replicas -------------------------------------------------------------

// replica is one `passnum serve` process slot: it keeps its address across
// restarts, as behind a load balancer.
type replica struct {
	name string
	env  []string
	log  *os.File
	run  *chaosRun

	mu   sync.Mutex
	addr string
	proc *serveProc
}

type serveProc struct {
	cmd      *exec.Cmd
	exited   chan struct{}
	err      error       // from Wait, once exited is closed
	expected atomic.Bool // we killed or stopped it
}

func (r *replica) url() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return "http://" + r.addr
}

func (r *replica) start() error {
	err := r.startAt()
	if err != nil && strings.Contains(err.Error(), "address already in use") {
		// Another program took the port while the replica was down.
		r.mu.Lock()
		r.addr = freeAddr(r.run.t)
		r.mu.Unlock()
		err = r.startAt()
	}
	return err
}

func (r *replica) startAt() error {
	// One venue sends every basket, far faster than a venue's limit allows.
	cmd := exec.Command(binary, "serve", "--listen", r.addr, "--seal-every", "50ms", "--checkpoint-every", "1s",
		"--shutdown-timeout", "10s", "--venue-basket-every", "1ns")
	cmd.Env = append(os.Environ(), r.env...)
	cmd.Stderr = r.log
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &serveProc{cmd: cmd, exited: make(chan struct{})}
	line := make(chan string, 1)
	go func() {
		br := bufio.NewReader(out)
		l, _ := br.ReadString('\n')
		line <- l
		io.Copy(io.Discard, br)
		err := cmd.Wait()
		if !p.expected.Load() {
			r.run.t.Errorf("%s (pid %d) exited on its own: %v; see its log below", r.name, cmd.Process.Pid, err)
		}
		p.err = err
		close(p.exited)
	}()
	select {
	case l := <-line:
		if !strings.HasPrefix(l, "listening on ") {
			p.expected.Store(true)
			<-p.exited
			return fmt.Errorf("%s did not start (%v): %s", r.name, p.err, tail(r.log.Name(), 3))
		}
	case <-time.After(30 * time.Second):
		p.expected.Store(true)
		cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("%s did not listen within 30 s: %s", r.name, tail(r.log.Name(), 3))
	}
	r.mu.Lock()
	r.proc = p
	r.mu.Unlock()
	return nil
}

func (r *replica) current() *serveProc {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.proc
}

// kill sends SIGKILL and waits for the process to be gone.
func (r *replica) kill(count bool) {
	p := r.current()
	if p == nil {
		return
	}
	select {
	case <-p.exited:
		return
	default:
	}
	p.expected.Store(true)
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	if count {
		r.run.kills.Add(1)
	}
}

// stop ends the replica as an operator does (SIGTERM): it must finish its
// requests and exit with status 0.
func (r *replica) stop() error {
	p := r.current()
	p.expected.Store(true)
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s did not stop within 30 s of SIGTERM", r.name)
	}
	if p.err != nil {
		return fmt.Errorf("%s stopped with %v after SIGTERM", r.name, p.err)
	}
	return nil
}

func (r *replica) alive() bool {
	p := r.current()
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// --- Chaos ----------------------------------------------------------------

// chaos kills replicas until the load time is over: usually one chosen at
// random, every fourth time the one sealing the ledger at that moment,
// every seventh time all of them at once; each comes back after a random
// downtime. PostgreSQL restarts are spread over the load.
func (c *chaosRun) chaos(start time.Time) {
	rng := rand.New(rand.NewPCG(1, uint64(start.UnixNano())))
	var pgDue []time.Duration
	for i := range c.mode.pgRestarts {
		pgDue = append(pgDue, c.mode.load*time.Duration(i+1)/time.Duration(len(c.mode.pgRestarts)+1))
	}
	for cycle := 1; time.Since(start) < c.mode.load; cycle++ {
		time.Sleep(time.Duration(300+rng.IntN(1500)) * time.Millisecond)
		if len(pgDue) > 0 && time.Since(start) >= pgDue[0] {
			c.restartPostgres(c.mode.pgRestarts[c.pgRestarts.Load()])
			pgDue = pgDue[1:]
			continue
		}
		downtime := time.Duration(rng.IntN(1500)) * time.Millisecond
		switch {
		case cycle%4 == 1:
			c.killSealer(rng)
		case cycle%7 == 0:
			c.killAlls.Add(1)
			for _, r := range c.replicas {
				r.kill(true)
			}
			time.Sleep(downtime)
			for _, r := range c.replicas {
				c.restart(r)
			}
		default:
			r := c.replicas[rng.IntN(len(c.replicas))]
			r.kill(true)
			time.Sleep(downtime)
			c.restart(r)
		}
	}
}

func (c *chaosRun) restart(r *replica) {
	if err := r.start(); err != nil {
		c.t.Errorf("restart after SIGKILL: %v", err)
	}
}

// sealerLockID is ledger's advisory lock for the sealer (unexported there);
// pg_locks shows its high 32 bits as classid and its low ones as objid. If
// ledger changes it, no sealer is ever caught and the test says so.
const sealerLockID int64 = 0x706173736e756d

// sealer returns the replica whose connection holds the sealer's advisory
// lock right now, if any.
func (c *chaosRun) sealer(ctx context.Context) *replica {
	var name string
	err := c.db.QueryRow(ctx, `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
		AND l.classid::bigint = $1 AND l.objid::bigint = $2`, sealerLockID>>32, sealerLockID&0xffffffff).Scan(&name)
	if err != nil {
		return nil
	}
	for _, r := range c.replicas {
		if r.name == name {
			return r
		}
	}
	return nil
}

// killSealer waits (up to 5 s) to catch a replica inside a sealing pass,
// kills it, and keeps it down until another replica has sealed new events.
func (c *chaosRun) killSealer(rng *rand.Rand) {
	ctx := context.Background()
	var victim *replica
	waitFor(5*time.Second, time.Millisecond, func() bool { victim = c.sealer(ctx); return victim != nil })
	if victim == nil {
		r := c.replicas[rng.IntN(len(c.replicas))]
		r.kill(true)
		c.restart(r)
		return
	}
	victim.kill(true)
	killed := time.Now()
	c.sealerKills.Add(1)
	head := c.head()
	var other *replica
	if !waitFor(15*time.Second, 2*time.Millisecond, func() bool {
		if s := c.sealer(ctx); s != nil && s != victim {
			other = s
		}
		return other != nil && c.head() > head
	}) {
		c.t.Errorf("%s was killed while sealing; 15 s later no other replica had sealed new events (head still #%d)", victim.name, head)
	} else {
		c.mu.Lock()
		c.takeovers = append(c.takeovers, time.Since(killed))
		c.mu.Unlock()
	}
	c.restart(victim)
}

func (c *chaosRun) head() (seq int64) {
	c.db.QueryRow(context.Background(), `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&seq)
	return seq
}

func (c *chaosRun) unsealed() (n int64) {
	if err := c.db.QueryRow(context.Background(), `SELECT COUNT(*) FROM events WHERE seq IS NULL`).Scan(&n); err != nil {
		return -1
	}
	return n
}

// restartPostgres stops PostgreSQL under load (mode "immediate" is a
// crash), checks that every replica keeps running and says it is not
// ready, starts PostgreSQL again and checks that every replica is ready
// again and redemptions flow, without any replica being restarted.
func (c *chaosRun) restartPostgres(mode string) {
	c.pgRestarts.Add(1)
	failed := func() int64 { return c.netErrors.Load() + c.serverErrors.Load() + c.inProgress.Load() }
	pids := map[*replica]int{}
	for _, r := range c.replicas {
		pids[r] = r.current().cmd.Process.Pid
	}
	c.pg.waitForOthers(c.t, c.db)
	failedBefore := failed()
	c.pgDown.Store(true)
	defer c.pgDown.Store(false)
	// pg_ctlcluster returns a while after the server stopped, or accepts
	// connections again: the replicas are timed from what they and
	// pg_isready see, while it runs.
	down := time.Now()
	stopping := make(chan error, 1)
	go func() { stopping <- c.pg.ctl("stop", mode) }()
	for _, r := range c.replicas {
		if !waitFor(30*time.Second, 20*time.Millisecond, func() bool { return status(c.http, r.url()+"/readyz") == 503 }) {
			c.t.Errorf("%s: /readyz is not 503 30 s after PostgreSQL began to stop (it says %d)", r.name, status(c.http, r.url()+"/readyz"))
		}
	}
	notReady := time.Since(down)
	if err := <-stopping; err != nil {
		c.t.Errorf("stop PostgreSQL: %v", err)
		return
	}
	stopped := time.Now()
	for _, r := range c.replicas {
		if s := status(c.http, r.url()+"/healthz"); s != 200 {
			c.t.Errorf("%s: /healthz is %d while PostgreSQL is down: the process must stay alive", r.name, s)
		}
	}
	time.Sleep(time.Until(stopped.Add(5 * time.Second))) // clients keep retrying meanwhile
	starting := time.Now()
	started := make(chan error, 1)
	go func() { started <- c.pg.ctl("start", "") }()
	if !waitFor(60*time.Second, 20*time.Millisecond, c.pg.ready) {
		c.t.Fatalf("PostgreSQL does not accept connections 60 s after pg_ctlcluster start: %v", <-started) // nothing else can run
	}
	up := time.Now()
	var readyAfter time.Duration
	for _, r := range c.replicas {
		if !waitFor(60*time.Second, 20*time.Millisecond, func() bool { return status(c.http, r.url()+"/readyz") == 200 }) {
			c.t.Errorf("%s: not ready 60 s after PostgreSQL came back", r.name)
		}
		readyAfter = max(readyAfter, time.Since(up))
		if !r.alive() || r.current().cmd.Process.Pid != pids[r] {
			c.t.Errorf("%s did not survive the PostgreSQL restart on its own", r.name)
		}
	}
	acked := c.accepted.Load()
	if !waitFor(30*time.Second, 20*time.Millisecond, func() bool { return c.accepted.Load() > acked }) {
		c.t.Errorf("no redemption accepted within 30 s after PostgreSQL came back")
	}
	flowAfter := time.Since(up)
	if err := <-started; err != nil {
		c.t.Errorf("start PostgreSQL again: %v", err)
	}
	c.mu.Lock()
	c.pgNotes = append(c.pgNotes, fmt.Sprintf("`stop -m %s`: every replica's /readyz said 503 within %.2f s, /healthz 200 throughout; "+
		"`start` %.1f s after pg_ctlcluster stop returned; PostgreSQL accepted connections %.1f s later; "+
		"every replica was ready %.2f s and a redemption accepted %.2f s after that, no replica restarted; "+
		"%d failed attempts were retried meanwhile",
		mode, notReady.Seconds(), starting.Sub(stopped).Seconds(), up.Sub(starting).Seconds(),
		readyAfter.Seconds(), flowAfter.Seconds(), failed()-failedBefore))
	c.mu.Unlock()
}

func status(client *http.Client, u string) int {
	resp, err := client.Get(u)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// cluster is the local PostgreSQL server, driven by Debian's pg_ctlcluster.
type cluster struct {
	version    string
	host, port string
}

// localCluster finds the PostgreSQL cluster to restart and checks that it
// answers: with PASSNUM_CHAOS set, a missing server fails the test.
func localCluster(t *testing.T, base string) cluster {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	p, err := pgxpool.New(ctx, base)
	if err == nil {
		err = p.Ping(ctx)
		p.Close()
	}
	if err != nil {
		t.Fatalf("PASSNUM_CHAOS is set but PostgreSQL does not answer at %s: %v (start it, e.g. pg_ctlcluster <version> main start)", base, err)
	}
	for _, tool := range []string{"pg_ctlcluster", "pg_isready"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the chaos test restarts PostgreSQL with pg_ctlcluster and watches it with pg_isready (Debian's postgresql-common), as root: %s not found", tool)
		}
	}
	versions, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(versions) != 1 {
		t.Fatalf("want exactly one PostgreSQL version in /etc/postgresql to restart, found %d (%v)", len(versions), err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	cl := cluster{version: versions[0].Name(), host: u.Hostname(), port: u.Port()}
	if cl.port == "" {
		cl.port = "5432"
	}
	return cl
}

func (c cluster) ctl(action, mode string) error {
	args := []string{"--skip-systemctl-redirect"}
	if mode != "" {
		args = append(args, "-m", mode)
	}
	out, err := exec.Command("pg_ctlcluster", append(args, c.version, "main", action)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctlcluster %s: %v: %s", action, err, out)
	}
	return nil
}

// ready says whether PostgreSQL accepts connections.
func (c cluster) ready() bool {
	return exec.Command("pg_isready", "-q", "-h", c.host, "-p", c.port).Run() == nil
}

// waitForOthers gives other users of the server (a developer's `make
// test`) up to 20 s to finish before the restart cuts them off.
func (c cluster) waitForOthers(t *testing.T, db *pgxpool.Pool) {
	var others int
	waitFor(20*time.Second, 500*time.Millisecond, func() bool {
		db.QueryRow(context.Background(), `SELECT COUNT(*) FROM pg_stat_activity
			WHERE backend_type = 'client backend' AND datname <> current_database() AND datname NOT IN ('postgres', 'template1')`).Scan(&others)
		return others == 0
	})
	if others > 0 {
		t.Logf("restarting PostgreSQL cuts %d sessions of other databases", others)
	}
}

// --- Checks ---------------------------------------------------------------

// ledgerCheck is what the database holds against what the clients were told.
type ledgerCheck struct {
	baskets, acked, rejected, contested int
	vouchersSpent                       int
	lost, phantom, halfApplied          int
	doubleSpends                        int
	unsealedBeforeAudit                 int64
}

// checkLedger compares the database with every answer the clients got.
func (c *chaosRun) checkLedger() ledgerCheck {
	t, ctx := c.t, context.Background()
	var ck ledgerCheck
	report := c.reporter()

	// What the clients were told.
	type ack struct {
		b       *basket
		serials []int64
	}
	acks := map[int64]ack{}            // redemption id → basket
	spentBy := map[int64]int64{}       // serial → acknowledged redemption
	inBaskets := map[int64][]*basket{} // serial → baskets holding it
	for _, b := range c.gen.made {
		for _, v := range b.vouch {
			inBaskets[v.serial] = append(inBaskets[v.serial], b)
		}
	}
	for _, b := range c.gen.made {
		if len(b.answers) == 0 {
			continue // never answered: its client failed the test
		}
		ck.baskets++
		a := b.answers[0].result
		contested := false
		for _, v := range b.vouch {
			contested = contested || len(inBaskets[v.serial]) > 1
		}
		if contested {
			ck.contested++
		}
		if len(a.Items) != len(b.vouch) {
			report(&ck.lost, "key %s: %d items in the answer for %d vouchers", b.key, len(a.Items), len(b.vouch))
			continue
		}
		for i, it := range a.Items {
			if it.Serial != b.vouch[i].serial || it.Index != i {
				report(&ck.lost, "key %s: item %d is voucher %d (index %d), the basket's is %d", b.key, i, it.Serial, it.Index, b.vouch[i].serial)
			}
		}
		if !a.Accepted {
			ck.rejected++
			if !contested {
				report(&ck.lost, "key %s: basket of fresh vouchers refused: %+v", b.key, a)
			}
			for _, it := range a.Items {
				if !it.Accepted && (it.Reason != "already_redeemed" || !it.ByThisVenue || it.RedemptionID == 0) {
					report(&ck.lost, "key %s: voucher %d refused for %q (redemption %d), not as already redeemed by this venue", b.key, it.Serial, it.Reason, it.RedemptionID)
				}
			}
			continue
		}
		ck.acked++
		serials := make([]int64, len(b.vouch))
		for i, v := range b.vouch {
			serials[i] = v.serial
			if other, ok := spentBy[v.serial]; ok {
				report(&ck.doubleSpends, "voucher %d accepted twice: redemptions %d and %d", v.serial, other, a.RedemptionID)
			}
			spentBy[v.serial] = a.RedemptionID
		}
		slices.Sort(serials)
		if _, ok := acks[a.RedemptionID]; ok {
			report(&ck.doubleSpends, "redemption %d acknowledged for two keys", a.RedemptionID)
		}
		acks[a.RedemptionID] = ack{b: b, serials: serials}
		if a.TotalCents != 1000*int64(len(b.vouch)) {
			report(&ck.lost, "key %s: total %d cents for %d vouchers of 10.00 EUR", b.key, a.TotalCents, len(b.vouch))
		}
	}
	// A refused voucher names the redemption that spent it: one a client
	// was told about, holding that voucher.
	for _, b := range c.gen.made {
		if len(b.answers) == 0 || b.answers[0].result.Accepted {
			continue
		}
		for _, it := range b.answers[0].result.Items {
			if !it.Accepted && spentBy[it.Serial] != it.RedemptionID {
				report(&ck.lost, "key %s: voucher %d refused as spent by redemption %d, but the acknowledged one is %d", b.key, it.Serial, it.RedemptionID, spentBy[it.Serial])
			}
		}
	}

	// What the database holds.
	rows, err := c.db.Query(ctx, `SELECT r.id, r.idempotency_key, r.status, r.total_cents,
			array_remove(array_agg(i.voucher_serial ORDER BY i.voucher_serial), NULL), COALESCE(SUM(i.value_cents), 0)
		FROM redemptions r LEFT JOIN redemption_items i ON i.redemption_id = r.id GROUP BY r.id`)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for rows.Next() {
		var (
			id, total, sum int64
			key, status    string
			serials        []int64
		)
		if err := rows.Scan(&id, &key, &status, &total, &serials, &sum); err != nil {
			t.Fatal(err)
		}
		seen[id] = true
		a, ok := acks[id]
		switch {
		case !ok:
			report(&ck.phantom, "redemption %d (key %s, vouchers %v) is in the database but no client was told it was accepted", id, key, serials)
		case a.b.key != key || status != "accepted" || !slices.Equal(a.serials, serials):
			report(&ck.lost, "redemption %d: database has key %s, %s, vouchers %v; the client was told key %s, vouchers %v", id, key, status, serials, a.b.key, a.serials)
		}
		if len(serials) == 0 || sum != total {
			report(&ck.halfApplied, "redemption %d has %d items worth %d cents for a total of %d", id, len(serials), sum, total)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for id, a := range acks {
		if !seen[id] {
			report(&ck.lost, "redemption %d (key %s) was acknowledged but is not in the database", id, a.b.key)
		}
	}
	// Every voucher is spent by the redemption the clients were told, or
	// still active.
	vrows, err := c.db.Query(ctx, `SELECT serial, status, COALESCE(redemption_id, 0) FROM vouchers`)
	if err != nil {
		t.Fatal(err)
	}
	for vrows.Next() {
		var serial, rid int64
		var status string
		if err := vrows.Scan(&serial, &status, &rid); err != nil {
			t.Fatal(err)
		}
		want, spent := spentBy[serial]
		switch {
		case spent && (status != "redeemed" || rid != want):
			report(&ck.lost, "voucher %d: %s, redemption %d; the client was told redemption %d spent it", serial, status, rid, want)
		case !spent && (status != "active" || rid != 0):
			report(&ck.halfApplied, "voucher %d is %s (redemption %d) though no accepted answer holds it", serial, status, rid)
		case spent:
			ck.vouchersSpent++
		}
	}
	if err := vrows.Err(); err != nil {
		t.Fatal(err)
	}
	var twice int
	if err := c.db.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT i.voucher_serial FROM redemption_items i
		JOIN redemptions r ON r.id = i.redemption_id WHERE r.status = 'accepted' GROUP BY 1 HAVING COUNT(*) > 1) d`).Scan(&twice); err != nil {
		t.Fatal(err)
	}
	for range twice {
		report(&ck.doubleSpends, "the database holds %d vouchers in two accepted redemptions", twice)
	}
	// One ledger event per redemption.
	var events, distinct int
	if err := c.db.QueryRow(ctx, `SELECT COUNT(*), COUNT(DISTINCT entity_id) FROM events WHERE type = $1`, ledger.EventRedeemed).Scan(&events, &distinct); err != nil {
		t.Fatal(err)
	}
	if events != len(seen) || distinct != len(seen) {
		report(&ck.halfApplied, "%d %s events (%d distinct) for %d redemptions", events, ledger.EventRedeemed, distinct, len(seen))
	}
	ck.unsealedBeforeAudit = c.unsealed()
	return ck
}

// audit seals what the stopped servers left and runs `passnum audit
// verify` on the database, as an operator would.
func (c *chaosRun) audit(env []string) string {
	mustRun(c.t, env, "audit", "seal")
	r := run(c.t, env, "audit", "verify")
	first, _, _ := strings.Cut(r.stdout, "\n")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "OK: ") || !strings.Contains(r.stdout, " 0 events not yet sealed") {
		c.t.Errorf("audit verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return first
}

// figures is the run's summary, ready for docs/RELIABILITY.md.
func (c *chaosRun) figures(mode string, load, total time.Duration, ck ledgerCheck, disagree, logErrors int, audit string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	c.mu.Lock()
	defer c.mu.Unlock()
	var maxTakeover time.Duration
	for _, d := range c.takeovers {
		maxTakeover = max(maxTakeover, d)
	}
	p("| PASSNUM_CHAOS=%s | |", mode)
	p("| --- | ---: |")
	p("| replicas, clients | %d, %d |", len(c.replicas), c.mode.clients)
	p("| duration: load under chaos; whole test (setup, replay, checks) | %.0f s; %.0f s |", load.Seconds(), total.Seconds())
	p("| replicas killed with SIGKILL (of which all three at once) | %d (%d × 3) |", c.kills.Load(), c.killAlls.Load())
	p("| replica killed while holding the sealer lock; slowest takeover | %d; %.2f s |", c.sealerKills.Load(), maxTakeover.Seconds())
	p("| PostgreSQL restarts under load | %d |", c.pgRestarts.Load())
	p("| requests sent under chaos (retries) | %d (%d) |", c.chaosRequests, c.chaosRetries)
	p("| failed attempts: network error, 5xx (during PostgreSQL restarts), 409 request_in_progress | %d, %d (%d), %d |",
		c.netErrors.Load(), c.serverErrors.Load(), c.outageErrors.Load(), c.inProgress.Load())
	var codes []string
	for code, n := range c.serverCodes {
		codes = append(codes, fmt.Sprintf("%s × %d", code, n))
	}
	slices.Sort(codes)
	p("| 5xx answers by status and error code | %s |", strings.Join(codes, ", "))
	p("| baskets (sharing a voucher with another basket) | %d (%d) |", ck.baskets, ck.contested)
	p("| acknowledged redemptions (vouchers) | %d (%d) |", ck.acked, ck.vouchersSpent)
	p("| refused baskets (already_redeemed) | %d |", ck.rejected)
	p("| keys sent again: at once to two replicas, after the answer, all at the end | %d, %d, %d |",
		c.concurrentSubmits.Load(), c.doubleSubmits.Load(), c.replays.Load())
	p("| keys whose answers disagree | %d |", disagree)
	p("| **acknowledged lost** | **%d** |", ck.lost)
	p("| **double spends** | **%d** |", ck.doubleSpends)
	p("| half-applied baskets; redemptions no client was told of | %d; %d |", ck.halfApplied, ck.phantom)
	p("| events left unsealed by the servers | %d |", ck.unsealedBeforeAudit)
	p("| server log lines at level ERROR | %d |", logErrors)
	p("| `passnum audit verify` | %s |", audit)
	for _, n := range c.pgNotes {
		p("\nPostgreSQL %s.", n)
	}
	return b.String()
}

// --- Helpers --------------------------------------------------------------

// reporter counts a kind of failure and reports its first ten: one broken
// rule can break thousands of baskets.
func (c *chaosRun) reporter() func(counter *int, format string, args ...any) {
	return func(counter *int, format string, args ...any) {
		*counter++
		if *counter <= 10 {
			c.t.Errorf(format, args...)
		}
	}
}

func pgPool(t *testing.T, dbURL, name string) *pgxpool.Pool {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = name
	cfg.MaxConns = 4
	p, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func waitFor(timeout, every time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(every)
	}
}

func waitGroupWithin(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

func tail(path string, n int) string {
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
