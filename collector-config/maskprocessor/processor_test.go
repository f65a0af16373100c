package maskprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

var testConfig = &Config{
	IgnoredKeys: []string{"http.route"},
	Patterns: []Pattern{
		{Regex: `[^/\s:@]+:[^/\s@]+@`, Needs: []string{"@"}},
		{Regex: `[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`, Needs: []string{"@"}},
		{Regex: `(?i)bearer\s+[A-Za-z0-9._~+/=-]+`, Needs: []string{"BEARER"}, IgnoreCase: true},
		{Regex: `(?i)\b(?:token|api_?key)=[^&\s#]+`, Needs: []string{"token=", "key="}, IgnoreCase: true},
	},
}

func newTestMasker(t *testing.T) *masker {
	t.Helper()
	if err := testConfig.Validate(); err != nil {
		t.Fatal(err)
	}
	m, err := newMasker(testConfig)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMaskStringRunsThePatternsInOrder(t *testing.T) {
	m := newTestMasker(t)
	for in, want := range map[string]string{
		"https://bob:hunter2@api.example.org/x?token=abc&page=2": "https://****api.example.org/x?****&page=2",
		"requested by carol@example.com":                         "requested by ****",
		"Authorization: bEaReR abc.def":                           "Authorization: ****",
		"bearer":                                                  "bearer",
		"GET /scenes/42":                                          "GET /scenes/42",
		"":                                                        "",
	} {
		got, changed := m.maskString(in)
		if got != want || changed != (in != want) {
			t.Errorf("maskString(%q) = %q, %v; want %q", in, got, changed, want)
		}
	}
}

func TestContainsFold(t *testing.T) {
	for _, c := range []struct {
		s, lower string
		want     bool
	}{
		{"xxBeArEr", "bearer", true},
		{"bearer", "bearer", true},
		{"beare", "bearer", false},
		{"Bxbearer", "bearer", true},
		{"BBBBBB", "bearer", false},
		{"", "bearer", false},
		{"=", "=", true},
	} {
		if got := containsFold(c.s, c.lower); got != c.want {
			t.Errorf("containsFold(%q, %q) = %v; want %v", c.s, c.lower, got, c.want)
		}
	}
}

func TestTracesEveryAttributeButTheIgnoredOnes(t *testing.T) {
	m := newTestMasker(t)
	traces := ptrace.NewTraces()
	rs := traces.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("process.command_line", "node app.js --token=abc")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().Attributes().PutStr("scope.note", "by ann@example.org")
	span := ss.Spans().AppendEmpty()
	span.SetName("GET ann@example.org")
	span.Attributes().PutStr("http.route", "/users/ann@example.org")
	span.Attributes().PutStr("user.email", "ann@example.org")
	span.Attributes().PutInt("http.response.status_code", 200)
	nested := span.Attributes().PutEmptyMap("app.nested")
	nested.PutStr("contact", "ann@example.org")
	nested.PutEmptySlice("list").AppendEmpty().SetStr("api_key=xyz")
	span.Events().AppendEmpty().Attributes().PutStr("exception.message", "user ann@example.org not found")
	span.Links().AppendEmpty().Attributes().PutStr("link.note", "Bearer abc")

	if _, err := m.processTraces(context.Background(), traces); err != nil {
		t.Fatal(err)
	}
	attrs := span.Attributes()
	expectStr(t, rs.Resource().Attributes(), "process.command_line", "node app.js --****")
	expectStr(t, ss.Scope().Attributes(), "scope.note", "by ****")
	expectStr(t, attrs, "http.route", "/users/ann@example.org")
	expectStr(t, attrs, "user.email", "****")
	if v, _ := attrs.Get("http.response.status_code"); v.Int() != 200 {
		t.Errorf("status code changed: %v", v.AsRaw())
	}
	app, _ := attrs.Get("app.nested")
	expectStr(t, app.Map(), "contact", "****")
	list, _ := app.Map().Get("list")
	if got := list.Slice().At(0).Str(); got != "****" {
		t.Errorf("nested list = %q", got)
	}
	expectStr(t, span.Events().At(0).Attributes(), "exception.message", "user **** not found")
	expectStr(t, span.Links().At(0).Attributes(), "link.note", "****")
	if span.Name() != "GET ann@example.org" {
		t.Errorf("span name changed: %q", span.Name())
	}
}

func TestLogsAttributesAndBody(t *testing.T) {
	m := newTestMasker(t)
	logs := plog.NewLogs()
	records := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	text := records.AppendEmpty()
	text.Body().SetStr("cache cold for ann@example.org")
	text.Attributes().PutStr("url.query", "page=1&token=abc")
	structured := records.AppendEmpty()
	body := structured.Body().SetEmptyMap()
	body.PutStr("user.contact", "ann@example.org")
	body.PutDouble("n_results", 3)

	if _, err := m.processLogs(context.Background(), logs); err != nil {
		t.Fatal(err)
	}
	if got := text.Body().Str(); got != "cache cold for ****" {
		t.Errorf("body = %q", got)
	}
	expectStr(t, text.Attributes(), "url.query", "page=1&****")
	expectStr(t, body, "user.contact", "****")
	if v, _ := body.Get("n_results"); v.Double() != 3 {
		t.Errorf("n_results changed: %v", v.AsRaw())
	}
}

func TestValidateNamesWhatIsWrong(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "patterns: at least one pattern is required"},
		{Config{Patterns: []Pattern{{Regex: "("}}}, `patterns[0].regex "(": error parsing regexp: missing closing ): ` + "`(`"},
		{Config{Patterns: []Pattern{{Regex: "a", Needs: []string{""}}}}, "patterns[0].needs: an empty literal would let every value through"},
	} {
		err := c.cfg.Validate()
		if err == nil || err.Error() != c.want {
			t.Errorf("Validate() = %v; want %q", err, c.want)
		}
	}
}

func expectStr(t *testing.T, attrs pcommon.Map, key, want string) {
	t.Helper()
	v, ok := attrs.Get(key)
	if !ok || v.Str() != want {
		t.Errorf("%s = %q (present %v); want %q", key, v.AsString(), ok, want)
	}
}

// A span like the demo's: a dozen attributes, most of them structural, two free-text URLs.
func BenchmarkDemoSpan(b *testing.B) {
	m, _ := newMasker(testConfig)
	traces := ptrace.NewTraces()
	spans := traces.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for range 100 {
		a := spans.AppendEmpty().Attributes()
		a.PutStr("http.request.method", "GET")
		a.PutStr("url.full", "http://127.0.0.1:4100/scenes/search?bbox=2,48,3,49&limit=20")
		a.PutStr("url.path", "/scenes/search")
		a.PutStr("user_agent.original", "observatory-load/1.0")
		a.PutStr("http.route", "/scenes/search")
		a.PutInt("http.response.status_code", 200)
		a.PutStr("server.address", "127.0.0.1")
		a.PutStr("scene.id", "S2A_20260601_T17")
	}
	b.ResetTimer()
	for range b.N {
		_, _ = m.processTraces(context.Background(), traces)
	}
}
