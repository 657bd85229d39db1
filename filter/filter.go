package filter

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/orcaprep/orcaprep/orca"
)

// Reason names, as written to rejected-*.jsonl and stats.json.
const (
	ReasonEmptyQuestion    = "empty_question"
	ReasonEmptyResponse    = "empty_response"
	ReasonSpecialTokenText = "special_token_text"
	ReasonSystemPrompt     = "system_prompt"
	ReasonNonASCII         = "non_ascii"
	ReasonLength           = "length"
	ReasonTooLong          = "too_long"
	ReasonShortResponse    = "short_response"
	ReasonLanguage         = "language"
	ReasonRegex            = "regex"
	ReasonRefusal          = "refusal"
)

// stageOrder is the order stages run in: cheap structural checks first, the phrase scan last.
var stageOrder = []string{
	ReasonEmptyQuestion, ReasonEmptyResponse, ReasonSpecialTokenText, ReasonSystemPrompt, ReasonNonASCII,
	ReasonLength, ReasonTooLong, ReasonShortResponse, ReasonLanguage, ReasonRegex, ReasonRefusal,
}

// Chain is a compiled filter configuration. It is immutable after New and safe for concurrent use.
type Chain struct {
	cfg     Config
	reasons []string

	specialFields []int
	specialTokens []string

	sysRules []sysRule

	nonASCIIFields []int
	allow          []rune

	langFields []int

	include [numFields][]namedRegexp
	exclude [numFields][]namedRegexp

	refusal *refusalMatcher
}

type sysRule struct {
	submixes map[string]bool // nil = any
	prompts  map[string]int  // trimmed prompt → index in the rule's list (for the detail)
}

type namedRegexp struct {
	src string
	re  *regexp.Regexp
}

const (
	fID = iota
	fSystemPrompt
	fQuestion
	fResponse
	numFields
)

var fieldNames = [numFields]string{FieldID, FieldSystemPrompt, FieldQuestion, FieldResponse}

func fieldIndex(name string) (int, bool) {
	for i, n := range fieldNames {
		if n == name {
			return i, true
		}
	}
	return 0, false
}

func field(r *orca.Record, f int) string {
	switch f {
	case fID:
		return r.ID
	case fSystemPrompt:
		return r.SystemPrompt
	case fQuestion:
		return r.Question
	default:
		return r.Response
	}
}

// textFields resolves a fields list (system_prompt, question, response) for key in error messages.
func textFields(names []string, key string) ([]int, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: empty list (want some of system_prompt, question, response)", key)
	}
	out := make([]int, 0, len(names))
	for _, n := range names {
		i, ok := fieldIndex(n)
		if !ok || i == fID {
			return nil, fmt.Errorf("%s: unknown field %q (want system_prompt, question or response)", key, n)
		}
		out = append(out, i)
	}
	return out, nil
}

// New validates cfg and compiles it. Errors name the offending key (e.g. "filters.regex.exclude.response[2]").
func New(cfg Config) (*Chain, error) {
	c := &Chain{cfg: cfg}
	var err error
	if cfg.SpecialTokenText.Enabled {
		if c.specialFields, err = textFields(cfg.SpecialTokenText.Fields, "filters.special_token_text.fields"); err != nil {
			return nil, err
		}
		for i, t := range cfg.SpecialTokenText.Tokens {
			if t == "" {
				return nil, fmt.Errorf("filters.special_token_text.tokens[%d]: empty token", i)
			}
		}
		c.specialTokens = cfg.SpecialTokenText.Tokens
	}
	if cfg.SystemPrompt.Enabled {
		if len(cfg.SystemPrompt.Rules) == 0 {
			return nil, fmt.Errorf("filters.system_prompt.rules: enabled but no rules")
		}
		for i, r := range cfg.SystemPrompt.Rules {
			sr := sysRule{prompts: map[string]int{}}
			if len(r.Submixes) > 0 {
				sr.submixes = map[string]bool{}
				for _, s := range r.Submixes {
					sr.submixes[s] = true
				}
			}
			if len(r.Prompts) == 0 {
				return nil, fmt.Errorf("filters.system_prompt.rules[%d].prompts: empty list", i)
			}
			for j, p := range r.Prompts {
				sr.prompts[strings.TrimSpace(p)] = j
			}
			c.sysRules = append(c.sysRules, sr)
		}
	}
	if cfg.NonASCII.Enabled {
		if c.nonASCIIFields, err = textFields(cfg.NonASCII.Fields, "filters.non_ascii.fields"); err != nil {
			return nil, err
		}
		if !utf8.ValidString(cfg.NonASCII.Allow) {
			return nil, fmt.Errorf("filters.non_ascii.allow: not valid UTF-8")
		}
		c.allow = []rune(cfg.NonASCII.Allow)
	}
	if cfg.Length.Enabled {
		for _, lr := range []struct {
			key string
			r   LengthRange
		}{{"system_prompt", cfg.Length.SystemPrompt}, {"question", cfg.Length.Question}, {"response", cfg.Length.Response}} {
			if lr.r.Min < 0 || lr.r.Max < 0 || (lr.r.Max > 0 && lr.r.Min > lr.r.Max) {
				return nil, fmt.Errorf("filters.length.%s: want 0 <= min <= max (0 = unbounded), got min=%d max=%d", lr.key, lr.r.Min, lr.r.Max)
			}
		}
	}
	if cfg.TooLong.Enabled {
		if cfg.TooLong.MaxChars < 0 || cfg.TooLong.MaxTokens < 0 || cfg.TooLong.MaxChars == 0 && cfg.TooLong.MaxTokens == 0 {
			return nil, fmt.Errorf("filters.too_long: set max_chars and/or max_tokens to a positive number")
		}
	}
	if cfg.ShortResponse.Enabled && cfg.ShortResponse.MinWords < 1 {
		return nil, fmt.Errorf("filters.short_response.min_words: must be >= 1, got %d", cfg.ShortResponse.MinWords)
	}
	if cfg.Language.Enabled {
		if c.langFields, err = textFields(cfg.Language.Fields, "filters.language.fields"); err != nil {
			return nil, err
		}
		l := cfg.Language
		if l.MinWords < 1 || l.MinStopwordRatio < 0 || l.MinStopwordRatio > 1 || l.MaxNonLatinRatio < 0 || l.MaxNonLatinRatio > 1 {
			return nil, fmt.Errorf("filters.language: want min_words >= 1 and ratios in [0,1]")
		}
	}
	if cfg.Regex.Enabled {
		if len(cfg.Regex.Include) == 0 && len(cfg.Regex.Exclude) == 0 {
			return nil, fmt.Errorf("filters.regex: enabled but neither include nor exclude is set")
		}
		for _, kind := range []struct {
			name string
			m    map[string][]string
			dst  *[numFields][]namedRegexp
		}{{"include", cfg.Regex.Include, &c.include}, {"exclude", cfg.Regex.Exclude, &c.exclude}} {
			keys := make([]string, 0, len(kind.m))
			for k := range kind.m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fi, ok := fieldIndex(k)
				if !ok {
					return nil, fmt.Errorf("filters.regex.%s.%s: unknown field (want id, system_prompt, question or response)", kind.name, k)
				}
				for i, src := range kind.m[k] {
					re, err := regexp.Compile(src)
					if err != nil {
						return nil, fmt.Errorf("filters.regex.%s.%s[%d]: %w", kind.name, k, i, err)
					}
					kind.dst[fi] = append(kind.dst[fi], namedRegexp{src: src, re: re})
				}
			}
		}
	}
	if cfg.Refusal.Enabled {
		if c.refusal, err = newRefusalMatcher(cfg.Refusal.ExtraPhrases, cfg.Refusal.DisablePhrases); err != nil {
			return nil, err
		}
	}
	on := map[string]bool{
		ReasonEmptyQuestion: cfg.EmptyQuestion.Enabled, ReasonEmptyResponse: cfg.EmptyResponse.Enabled,
		ReasonSpecialTokenText: cfg.SpecialTokenText.Enabled, ReasonSystemPrompt: cfg.SystemPrompt.Enabled,
		ReasonNonASCII: cfg.NonASCII.Enabled, ReasonLength: cfg.Length.Enabled, ReasonTooLong: cfg.TooLong.Enabled,
		ReasonShortResponse: cfg.ShortResponse.Enabled, ReasonLanguage: cfg.Language.Enabled,
		ReasonRegex: cfg.Regex.Enabled, ReasonRefusal: cfg.Refusal.Enabled,
	}
	for _, r := range stageOrder {
		if on[r] {
			c.reasons = append(c.reasons, r)
		}
	}
	return c, nil
}

// Reasons lists every reason this chain can emit, in stage order.
func (c *Chain) Reasons() []string { return append([]string(nil), c.reasons...) }

// AllReasons lists every reason name the filter package defines, in stage order.
func AllReasons() []string { return append([]string(nil), stageOrder...) }

// Apply runs the enabled filters in stage order and returns "" to keep the row, or the first failing
// filter's reason and a short detail. The keep path does not allocate.
func (c *Chain) Apply(r *orca.Record) (reason, detail string) {
	cfg := &c.cfg
	if cfg.EmptyQuestion.Enabled && isBlank(r.Question) {
		return ReasonEmptyQuestion, blankDetail(r.Question, r.Nulls&orca.NullQuestion != 0)
	}
	if cfg.EmptyResponse.Enabled && isBlank(r.Response) {
		return ReasonEmptyResponse, blankDetail(r.Response, r.Nulls&orca.NullResponse != 0)
	}
	if cfg.SpecialTokenText.Enabled {
		for _, f := range c.specialFields {
			if tok := findToken(field(r, f), c.specialTokens); tok != "" {
				return ReasonSpecialTokenText, tok + " in " + fieldNames[f]
			}
		}
	}
	if cfg.SystemPrompt.Enabled {
		sub := r.Submix()
		sp := strings.TrimSpace(r.SystemPrompt)
		for i, rule := range c.sysRules {
			if rule.submixes != nil && !rule.submixes[sub] {
				continue
			}
			if j, ok := rule.prompts[sp]; ok {
				return ReasonSystemPrompt, fmt.Sprintf("rule %d prompt %d (%s)", i, j, sub)
			}
		}
	}
	if cfg.NonASCII.Enabled {
		for _, f := range c.nonASCIIFields {
			if ru, ok := c.firstDisallowed(field(r, f)); ok {
				return ReasonNonASCII, fmt.Sprintf("%U %q in %s", ru, ru, fieldNames[f])
			}
		}
	}
	if cfg.Length.Enabled {
		for _, x := range []struct {
			f  int
			lr LengthRange
		}{{fSystemPrompt, cfg.Length.SystemPrompt}, {fQuestion, cfg.Length.Question}, {fResponse, cfg.Length.Response}} {
			if x.lr.Min == 0 && x.lr.Max == 0 {
				continue
			}
			n := utf8.RuneCountInString(field(r, x.f))
			if n < x.lr.Min || (x.lr.Max > 0 && n > x.lr.Max) {
				return ReasonLength, fmt.Sprintf("%s chars=%d not in [%d,%s]", fieldNames[x.f], n, x.lr.Min, maxStr(x.lr.Max))
			}
		}
	}
	if cfg.TooLong.Enabled && cfg.TooLong.MaxChars > 0 {
		// Byte length bounds rune count from above, so most rows skip the rune count.
		if len(r.SystemPrompt)+len(r.Question)+len(r.Response) > cfg.TooLong.MaxChars {
			n := utf8.RuneCountInString(r.SystemPrompt) + utf8.RuneCountInString(r.Question) + utf8.RuneCountInString(r.Response)
			if n > cfg.TooLong.MaxChars {
				return ReasonTooLong, fmt.Sprintf("chars=%d > %d", n, cfg.TooLong.MaxChars)
			}
		}
	}
	if cfg.ShortResponse.Enabled {
		if n := countWords(r.Response, cfg.ShortResponse.MinWords); n < cfg.ShortResponse.MinWords {
			return ReasonShortResponse, fmt.Sprintf("words=%d < %d", n, cfg.ShortResponse.MinWords)
		}
	}
	if cfg.Language.Enabled {
		for _, f := range c.langFields {
			if d, bad := c.notEnglish(field(r, f)); bad {
				return ReasonLanguage, fieldNames[f] + " " + d
			}
		}
	}
	if cfg.Regex.Enabled {
		for f := 0; f < numFields; f++ {
			s := field(r, f)
			if inc := c.include[f]; len(inc) > 0 {
				ok := false
				for _, nr := range inc {
					if nr.re.MatchString(s) {
						ok = true
						break
					}
				}
				if !ok {
					return ReasonRegex, fieldNames[f] + " matches no include pattern"
				}
			}
			for _, nr := range c.exclude[f] {
				if nr.re.MatchString(s) {
					return ReasonRegex, fieldNames[f] + " matches exclude " + nr.src
				}
			}
		}
	}
	if cfg.Refusal.Enabled {
		if lit, ok := c.refusal.match(r.Response, r.Question); ok {
			return ReasonRefusal, lit
		}
	}
	return "", ""
}

// ApplyTokens is the token-budget check, for callers that know the rendered sample's token count.
// It returns ReasonTooLong when too_long.max_tokens is set and exceeded.
func (c *Chain) ApplyTokens(r *orca.Record, nTokens int) (reason, detail string) {
	if c.cfg.TooLong.Enabled && c.cfg.TooLong.MaxTokens > 0 && nTokens > c.cfg.TooLong.MaxTokens {
		return ReasonTooLong, "tokens=" + strconv.Itoa(nTokens) + " > " + strconv.Itoa(c.cfg.TooLong.MaxTokens)
	}
	return "", ""
}

// MatchRefusal runs only the refusal matcher on a response (with no question) and returns the matched phrase;
// for tests and tools.
func (c *Chain) MatchRefusal(text string) (string, bool) {
	return c.MatchRefusalFor("", text)
}

// MatchRefusalFor is MatchRefusal for a response to question: first-person apologies and inability statements
// are content, not refusals, when the question asks for text in a persona or in the first person.
func (c *Chain) MatchRefusalFor(question, text string) (string, bool) {
	if c.refusal == nil {
		return "", false
	}
	return c.refusal.match(text, question)
}

func maxStr(n int) string {
	if n == 0 {
		return "∞"
	}
	return strconv.Itoa(n)
}

func isBlank(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) && r != '\u200b' && r != '\ufeff' {
			return false
		}
	}
	return true
}

func blankDetail(s string, null bool) string {
	switch {
	case null:
		return "null"
	case s == "":
		return "empty"
	}
	return "whitespace only"
}

// findToken returns the first of tokens found in s. All default tokens start with '<', so the scan jumps
// from '<' to '<' instead of searching for each token across the whole string.
func findToken(s string, tokens []string) string {
	allLT := true
	for _, t := range tokens {
		if t[0] != '<' {
			allLT = false
			break
		}
	}
	if !allLT {
		for _, t := range tokens {
			if strings.Contains(s, t) {
				return t
			}
		}
		return ""
	}
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			return ""
		}
		i += j
		for _, t := range tokens {
			if strings.HasPrefix(s[i:], t) {
				return t
			}
		}
		i++
	}
	return ""
}

func (c *Chain) firstDisallowed(s string) (rune, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] < utf8.RuneSelf {
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		ok := false
		for _, a := range c.allow {
			if r == a {
				ok = true
				break
			}
		}
		if !ok {
			return r, true
		}
		i += size - 1
	}
	return 0, false
}

// countWords counts whitespace-separated words, stopping once it reaches limit (callers only compare).
func countWords(s string, limit int) int {
	n := 0
	in := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			in = false
			continue
		}
		if !in {
			n++
			if n >= limit {
				return n
			}
			in = true
		}
	}
	return n
}

// functionWords maps frequent function words to the language they indicate: English (1) or one of the
// Latin-script languages OpenOrca's translation tasks produce most, German, French, Spanish, Italian, Dutch and
// Portuguese (2). Words shared between English and another of them ("is", "was", "on", "me", "no", "die") are
// left out, so they count for neither side.
var functionWords = map[string]uint8{}

func init() {
	for _, w := range strings.Fields(`the of and to for that with as are be by this it from or at have has had not but
	which they their there were been would can could should what when who how you your we our she his her its them
	these those than then because about into more most some such only other any each if does did my yes all one after
	before between through where why`) {
		functionWords[w] = 1
	}
	for _, w := range strings.Fields(`der das und ist nicht ein eine einen dem den des zu mit sich auf für von auch wie wir
	sie er ich bei oder aber wenn noch nach werden wird sind war le la les et est une des du que qui dans pour pas sur
	au aux ce cette il elle nous vous ils sont avec mais ou être ont el los las y es del en por para con se su sus lo
	como pero más este esta fue gli di che per non della delle nel sono anche questo de het een van te dat niet zijn op
	voor met ook maar naar os um uma dos das não mais`) {
		functionWords[w] = 2
	}
}

// notEnglish applies the cheap English check to s: too many letters outside the Latin script, or (with at
// least MinWords words) more foreign than English function words, or an English function-word ratio under
// MinStopwordRatio when that is set.
func (c *Chain) notEnglish(s string) (string, bool) {
	lc := &c.cfg.Language
	var words, eng, frn, letters, nonLatin int
	var buf [16]byte
	n := 0
	long := false
	flush := func() {
		if n > 0 || long {
			words++
			if !long {
				switch functionWords[string(buf[:n])] {
				case 1:
					eng++
				case 2:
					frn++
				}
			}
		}
		n, long = 0, false
	}
	for _, r := range s {
		if unicode.IsLetter(r) {
			letters++
			if r >= utf8.RuneSelf && !unicode.Is(unicode.Latin, r) {
				nonLatin++
			}
			if n+utf8.RuneLen(r) <= len(buf) && !long {
				n += utf8.EncodeRune(buf[n:], unicode.ToLower(r))
			} else {
				long = true
			}
			continue
		}
		if r == '\'' || r == '’' {
			long = long || n > 0 // contractions are in neither list; count the word once
			continue
		}
		flush()
	}
	flush()
	if letters > 0 && float64(nonLatin)/float64(letters) > lc.MaxNonLatinRatio {
		return fmt.Sprintf("non-Latin letters=%.2f", float64(nonLatin)/float64(letters)), true
	}
	if words < lc.MinWords {
		return "", false
	}
	if frn > eng {
		return fmt.Sprintf("function words: foreign=%d english=%d", frn, eng), true
	}
	if ratio := float64(eng) / float64(words); ratio < lc.MinStopwordRatio {
		return fmt.Sprintf("english function words=%.2f", ratio), true
	}
	return "", false
}
