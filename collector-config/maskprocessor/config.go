package maskprocessor

import (
	"errors"
	"fmt"
	"regexp"
)

// Config masks every match of each pattern, in the order written, in the string values of a signal's attributes
// (resource, scope, span, span event, span link and log record, nested maps and lists included) and of a log's body.
type Config struct {
	// IgnoredKeys are attribute keys whose values are never scanned: structural keys that cannot carry free text.
	IgnoredKeys []string `mapstructure:"ignored_keys"`
	// Patterns are run in the order written; each sees the value as the patterns before it left it.
	Patterns []Pattern `mapstructure:"patterns"`
}

// Pattern is one RE2 pattern and the literals that every one of its matches contains.
type Pattern struct {
	// Regex is the pattern (Go RE2 syntax); each match is replaced by `****`.
	Regex string `mapstructure:"regex"`
	// Needs lists literals at least one of which every match of Regex contains. A value that holds none of them
	// is not given to the regular expression: a substring search is far cheaper than RE2's scan. Empty: every
	// value is scanned. The literals must be exact — a value without them never matches (the config's tests check
	// it for the committed patterns).
	Needs []string `mapstructure:"needs"`
	// IgnoreCase compares Needs without regard to ASCII case.
	IgnoreCase bool `mapstructure:"ignore_case"`
}

// Validate reports a pattern that does not compile, an empty literal, or a config with nothing to mask.
func (c *Config) Validate() error {
	if len(c.Patterns) == 0 {
		return errors.New("patterns: at least one pattern is required")
	}
	for i, p := range c.Patterns {
		if _, err := regexp.Compile(p.Regex); err != nil {
			return fmt.Errorf("patterns[%d].regex %q: %w", i, p.Regex, err)
		}
		for _, literal := range p.Needs {
			if literal == "" {
				return fmt.Errorf("patterns[%d].needs: an empty literal would let every value through", i)
			}
		}
	}
	return nil
}
