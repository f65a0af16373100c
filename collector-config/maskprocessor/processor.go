package maskprocessor

import (
	"context"
	"regexp"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

const mask = "****"

type compiled struct {
	regex      *regexp.Regexp
	needs      []literal
	ignoreCase bool
}

// literal is one of a pattern's needed literals, with the set of its bytes (ASCII-lower-cased).
type literal struct {
	text  string
	bytes byteSet
}

// byteSet is a set of byte values, ASCII letters lower-cased: a value can contain a literal only if the value's set
// holds every byte of the literal's. One pass over a value's bytes builds its set, and most values fail every
// pattern's literals on the set alone, before any substring search.
type byteSet [4]uint64

func setOf(s string) byteSet {
	var set byteSet
	for i := 0; i < len(s); i++ {
		b := s[i]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		set[b>>6] |= 1 << (b & 63)
	}
	return set
}

func (s *byteSet) holds(other *byteSet) bool {
	return s[0]&other[0] == other[0] && s[1]&other[1] == other[1] && s[2]&other[2] == other[2] && s[3]&other[3] == other[3]
}

type masker struct {
	ignored  map[string]struct{}
	patterns []compiled
}

func newMasker(cfg *Config) (*masker, error) {
	m := &masker{ignored: make(map[string]struct{}, len(cfg.IgnoredKeys))}
	for _, key := range cfg.IgnoredKeys {
		m.ignored[key] = struct{}{}
	}
	for _, p := range cfg.Patterns {
		re, err := regexp.Compile(p.Regex)
		if err != nil {
			return nil, err
		}
		needs := make([]literal, len(p.Needs))
		for i, text := range p.Needs {
			if p.IgnoreCase {
				text = strings.ToLower(text)
			}
			needs[i] = literal{text: text, bytes: setOf(text)}
		}
		m.patterns = append(m.patterns, compiled{regex: re, needs: needs, ignoreCase: p.IgnoreCase})
	}
	return m, nil
}

// maskString returns s with every match of every pattern masked, the patterns in order.
func (m *masker) maskString(s string) (string, bool) {
	changed := false
	set := setOf(s)
	for i := range m.patterns {
		p := &m.patterns[i]
		if !p.mayMatch(s, &set) || !p.regex.MatchString(s) {
			continue
		}
		s = p.regex.ReplaceAllLiteralString(s, mask)
		set = setOf(s)
		changed = true
	}
	return s, changed
}

// mayMatch is false only when s holds none of the literals that every match needs.
func (p *compiled) mayMatch(s string, set *byteSet) bool {
	if len(p.needs) == 0 {
		return true
	}
	for i := range p.needs {
		need := &p.needs[i]
		if !set.holds(&need.bytes) {
			continue
		}
		if p.ignoreCase {
			if containsFold(s, need.text) {
				return true
			}
		} else if strings.Contains(s, need.text) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains lower (an ASCII-lower-case literal) in any ASCII case.
func containsFold(s, lower string) bool {
	first := lower[0]
	upper := first
	if 'a' <= first && first <= 'z' {
		upper = first - 'a' + 'A'
	}
	for i := 0; i+len(lower) <= len(s); {
		j := strings.IndexByte(s[i:], first)
		if upper != first {
			if k := strings.IndexByte(s[i:], upper); k >= 0 && (j < 0 || k < j) {
				j = k
			}
		}
		if j < 0 {
			return false
		}
		i += j
		if i+len(lower) > len(s) {
			return false
		}
		if strings.EqualFold(s[i:i+len(lower)], lower) {
			return true
		}
		i++
	}
	return false
}

// maskValue masks a string value in place, and the strings of a map or a list at any depth.
func (m *masker) maskValue(v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		if masked, changed := m.maskString(v.Str()); changed {
			v.SetStr(masked)
		}
	case pcommon.ValueTypeMap:
		for _, nested := range v.Map().All() {
			m.maskValue(nested)
		}
	case pcommon.ValueTypeSlice:
		for _, nested := range v.Slice().All() {
			m.maskValue(nested)
		}
	default:
	}
}

// maskAttributes masks the values of every key but the ignored ones (which are ignored at the top level only: a
// nested map's keys are not attribute names).
func (m *masker) maskAttributes(attributes pcommon.Map) {
	for key, value := range attributes.All() {
		if _, ignored := m.ignored[key]; ignored {
			continue
		}
		m.maskValue(value)
	}
}

func (m *masker) processTraces(_ context.Context, traces ptrace.Traces) (ptrace.Traces, error) {
	for _, rs := range traces.ResourceSpans().All() {
		m.maskAttributes(rs.Resource().Attributes())
		for _, ss := range rs.ScopeSpans().All() {
			m.maskAttributes(ss.Scope().Attributes())
			for _, span := range ss.Spans().All() {
				m.maskAttributes(span.Attributes())
				for _, event := range span.Events().All() {
					m.maskAttributes(event.Attributes())
				}
				for _, link := range span.Links().All() {
					m.maskAttributes(link.Attributes())
				}
			}
		}
	}
	return traces, nil
}

func (m *masker) processLogs(_ context.Context, logs plog.Logs) (plog.Logs, error) {
	for _, rl := range logs.ResourceLogs().All() {
		m.maskAttributes(rl.Resource().Attributes())
		for _, sl := range rl.ScopeLogs().All() {
			m.maskAttributes(sl.Scope().Attributes())
			for _, record := range sl.LogRecords().All() {
				m.maskAttributes(record.Attributes())
				m.maskValue(record.Body())
			}
		}
	}
	return logs, nil
}
