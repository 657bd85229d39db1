package hub

import (
	"regexp"
	"strings"
)

// globMatcher matches repo paths the way huggingface_hub's filter_repo_objects does: Python fnmatch,
// where "*" also crosses "/" (so "*.parquet" matches "data/x.parquet") and a pattern ending in "/"
// means everything below that folder.
type globMatcher struct{ res []*regexp.Regexp }

func newGlobMatcher(patterns []string) (*globMatcher, error) {
	g := &globMatcher{}
	for _, p := range patterns {
		if strings.HasSuffix(p, "/") {
			p += "*"
		}
		re, err := regexp.Compile(fnmatchToRegexp(p))
		if err != nil {
			return nil, err
		}
		g.res = append(g.res, re)
	}
	return g, nil
}

func (g *globMatcher) any() bool { return len(g.res) > 0 }

func (g *globMatcher) match(path string) bool {
	for _, re := range g.res {
		if re.MatchString(path) {
			return true
		}
	}
	return false
}

// fnmatchToRegexp translates a Python fnmatch pattern (case-sensitive, as on POSIX) to an anchored regexp:
// * any run, ? any one character, [seq] / [!seq] character classes; an unclosed "[" is literal.
func fnmatchToRegexp(p string) string {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for i := 0; i < len(p); i++ {
		switch ch := p[i]; ch {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			j := i + 1
			if j < len(p) && p[j] == '!' {
				j++
			}
			if j < len(p) && p[j] == ']' {
				j++
			}
			for j < len(p) && p[j] != ']' {
				j++
			}
			if j >= len(p) {
				b.WriteString(`\[`)
				continue
			}
			body := p[i+1 : j]
			i = j
			neg := strings.HasPrefix(body, "!")
			if neg {
				body = body[1:]
			}
			body = strings.ReplaceAll(body, `\`, `\\`)
			body = strings.ReplaceAll(body, `[`, `\[`)
			if neg {
				b.WriteString(`[^` + body + `]`)
			} else if strings.HasPrefix(body, "^") {
				b.WriteString(`[\` + body + `]`)
			} else {
				b.WriteString(`[` + body + `]`)
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(ch)))
		}
	}
	b.WriteString(`$`)
	return b.String()
}
