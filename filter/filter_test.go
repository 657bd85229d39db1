package filter

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/orcaprep/orcaprep/orca"
)

func rec(id, sp, q, r string) orca.Record {
	return orca.Record{ID: id, SystemPrompt: sp, Question: q, Response: r}
}

func mustNew(t testing.TB, cfg Config) *Chain {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDefaultsAndReasons(t *testing.T) {
	c := mustNew(t, DefaultConfig())
	want := []string{ReasonEmptyQuestion, ReasonEmptyResponse, ReasonSpecialTokenText, ReasonRefusal}
	if got := c.Reasons(); !slices.Equal(got, want) {
		t.Errorf("default reasons %v, want %v", got, want)
	}
	all := DefaultConfig()
	all.SystemPrompt.Enabled, all.NonASCII.Enabled, all.Length.Enabled, all.TooLong.Enabled = true, true, true, true
	all.ShortResponse.Enabled, all.Language.Enabled = true, true
	all.Regex = RegexConfig{Enabled: true, Exclude: map[string][]string{"response": {"x"}}}
	if got := mustNew(t, all).Reasons(); !slices.Equal(got, AllReasons()) {
		t.Errorf("all enabled: reasons %v, want %v", got, AllReasons())
	}
}

func TestEmpty(t *testing.T) {
	c := mustNew(t, DefaultConfig())
	cases := []struct {
		r              orca.Record
		reason, detail string
	}{
		{rec("flan.1", "", "", "answer"), ReasonEmptyQuestion, "empty"},
		{rec("flan.1", "", " \n\t\u00a0", "answer"), ReasonEmptyQuestion, "whitespace only"},
		{rec("flan.1", "", "q", ""), ReasonEmptyResponse, "empty"},
		{rec("flan.1", "", "q", "  \u3000 "), ReasonEmptyResponse, "whitespace only"},
		{orca.Record{ID: "flan.1", Question: "q", Nulls: orca.NullResponse}, ReasonEmptyResponse, "null"},
		{rec("flan.1", "", "q", "."), "", ""},
	}
	for _, tc := range cases {
		r := tc.r
		reason, detail := c.Apply(&r)
		if reason != tc.reason || detail != tc.detail {
			t.Errorf("%+v: got (%q,%q), want (%q,%q)", tc.r, reason, detail, tc.reason, tc.detail)
		}
	}
}

func TestSpecialTokenText(t *testing.T) {
	c := mustNew(t, DefaultConfig())
	for _, tc := range []struct {
		sp, q, r, want string
	}{
		{"", "Write <|im_start|>user", "ok", "<|im_start|> in question"},
		{"", "q", "done</s>", "</s> in response"},
		{"<s>system", "q", "ok", "<s> in system_prompt"},
		{"", "Use <b>bold</b> and a < b", "x <= y, <sup>", ""}, // HTML and comparisons are fine
		{"", "q", "the <|im_end tag without bar", ""},
	} {
		r := rec("cot.1", tc.sp, tc.q, tc.r)
		reason, detail := c.Apply(&r)
		if tc.want == "" && reason != "" || tc.want != "" && (reason != ReasonSpecialTokenText || detail != tc.want) {
			t.Errorf("%q/%q/%q: got (%q,%q), want %q", tc.sp, tc.q, tc.r, reason, detail, tc.want)
		}
	}
}

func TestSystemPrompt(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SystemPrompt.Enabled = true
	c := mustNew(t, cfg)
	for _, tc := range []struct {
		id, sp string
		drop   bool
	}{
		{"niv.1", "", true},
		{"t0.1", orcaMsg4, true},
		{"t0.1", "  " + orcaMsg1Curly + "\n", true}, // trimmed
		{"niv.1", orcaMsg1ASCII, true},
		{"flan.1", "", false}, // rule only covers niv/t0
		{"cot.1", orcaMsg8, false},
		{"niv.1", "You are a helpful assistant, who always provide explanation.", false},
	} {
		r := rec(tc.id, tc.sp, "q", "a real answer")
		reason, _ := c.Apply(&r)
		if (reason == ReasonSystemPrompt) != tc.drop {
			t.Errorf("%s %.30q: reason %q, want drop=%v", tc.id, tc.sp, reason, tc.drop)
		}
	}
}

func TestNonASCII(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NonASCII.Enabled = true
	c := mustNew(t, cfg)
	r := rec("flan.1", "user don’t need", "“Quoted” – dash — ok", "It’s fine")
	if reason, d := c.Apply(&r); reason != "" {
		t.Errorf("MLPerf-allowed punctuation dropped: %s %s", reason, d)
	}
	r = rec("flan.1", "", "q", "café")
	if reason, d := c.Apply(&r); reason != ReasonNonASCII || !strings.Contains(d, "U+00E9") || !strings.Contains(d, "response") {
		t.Errorf("café: got (%q,%q)", reason, d)
	}
}

func TestLengthTooLongShort(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Length = LengthConfig{Enabled: true, Question: LengthRange{Min: 3, Max: 10}}
	cfg.TooLong = TooLongConfig{Enabled: true, MaxChars: 30, MaxTokens: 100}
	cfg.ShortResponse = ShortResponseConfig{Enabled: true, MinWords: 3}
	c := mustNew(t, cfg)
	for _, tc := range []struct {
		q, r, want string
	}{
		{"ab", "one two three", ReasonLength},
		{"ééééééééé", "one two three", ""}, // 9 runes, 18 bytes: counted in characters
		{"abcdefghijk", "one two three", ReasonLength},
		{"abc", "one two three four five six seven", ReasonTooLong},
		{"abc", "one two", ReasonShortResponse},
		{"abc", "(B)", ReasonShortResponse},
	} {
		r := rec("t0.1", "", tc.q, tc.r)
		if reason, d := c.Apply(&r); reason != tc.want {
			t.Errorf("%q/%q: got (%q,%q), want %q", tc.q, tc.r, reason, d, tc.want)
		}
	}
	r := rec("t0.1", "", "q", "a")
	if reason, _ := c.ApplyTokens(&r, 101); reason != ReasonTooLong {
		t.Errorf("ApplyTokens 101 > 100: got %q", reason)
	}
	if reason, _ := c.ApplyTokens(&r, 100); reason != "" {
		t.Errorf("ApplyTokens 100: got %q", reason)
	}
}

func TestLanguage(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Language.Enabled = true
	c := mustNew(t, cfg)
	for _, tc := range []struct {
		r    string
		drop bool
	}{
		{"The capital of France is Paris, which is also the largest city in the country and its cultural centre.", false},
		{"Die Hauptstadt von Frankreich ist Paris, die zugleich die größte Stadt des Landes und sein kulturelles Zentrum ist.", true},
		{"Столица Франции — Париж, крупнейший город страны.", true},
		{"Paris", false}, // too short to judge
		{"Photosynthesis converts light energy into chemical energy stored in glucose molecules within chloroplasts of plant cells.", false},
		{"La capitale de la France est Paris, qui est aussi la plus grande ville du pays et son centre culturel.", true},
		{"El perro corre en el parque y no quiere volver a casa porque hace sol y me gusta mucho.", true},
		{"Het is een mooie dag en ik ga met mijn vrienden naar het strand om te zwemmen en te spelen.", true},
		{"def f(x):\n    return x * 2\n\nprint(f(21))", false},
	} {
		r := rec("flan.1", "", "What is the capital of France?", tc.r)
		reason, d := c.Apply(&r)
		if (reason == ReasonLanguage) != tc.drop {
			t.Errorf("%.40q: got (%q,%q), want drop=%v", tc.r, reason, d, tc.drop)
		}
	}
}

func TestRegex(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Regex = RegexConfig{Enabled: true,
		Include: map[string][]string{"id": {`^(flan|cot)\.`}},
		Exclude: map[string][]string{"response": {`(?i)\bconfidence: \d+%`}}}
	c := mustNew(t, cfg)
	for _, tc := range []struct {
		id, r, want string
	}{
		{"flan.1", "Paris.", ""},
		{"niv.1", "Paris.", "id matches no include pattern"},
		{"cot.2", "Paris. Confidence: 90%", `response matches exclude (?i)\bconfidence: \d+%`},
	} {
		r := rec(tc.id, "", "q", tc.r)
		reason, d := c.Apply(&r)
		if tc.want == "" && reason != "" || tc.want != "" && (reason != ReasonRegex || d != tc.want) {
			t.Errorf("%s %q: got (%q,%q), want %q", tc.id, tc.r, reason, d, tc.want)
		}
	}
}

func TestConfigErrorsNameKey(t *testing.T) {
	for _, tc := range []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) {
			c.Regex = RegexConfig{Enabled: true, Exclude: map[string][]string{"response": {"ok", "("}}}
		}, "filters.regex.exclude.response[1]"},
		{func(c *Config) { c.Regex = RegexConfig{Enabled: true, Include: map[string][]string{"answer": {"x"}}} }, "filters.regex.include.answer"},
		{func(c *Config) { c.Refusal.ExtraPhrases = []string{"ok", "as an (ai"} }, "filters.refusal.extra_phrases[1]"},
		{func(c *Config) { c.Refusal.ExtraPhrases = []string{"as an ai ~foo"} }, "filters.refusal.extra_phrases[0]"},
		{func(c *Config) { c.Refusal.DisablePhrases = []string{"no such phrase"} }, "filters.refusal.disable_phrases"},
		{func(c *Config) { c.NonASCII.Enabled = true; c.NonASCII.Fields = []string{"answer"} }, "filters.non_ascii.fields"},
		{func(c *Config) { c.Length = LengthConfig{Enabled: true, Response: LengthRange{Min: 5, Max: 2}} }, "filters.length.response"},
		{func(c *Config) { c.ShortResponse = ShortResponseConfig{Enabled: true} }, "filters.short_response.min_words"},
		{func(c *Config) { c.TooLong = TooLongConfig{Enabled: true} }, "filters.too_long"},
		{func(c *Config) { c.SystemPrompt = SystemPromptConfig{Enabled: true} }, "filters.system_prompt.rules"},
	} {
		cfg := DefaultConfig()
		tc.mut(&cfg)
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want error naming %q, got %v", tc.want, err)
		}
	}
}

func TestRefusalPhrases(t *testing.T) {
	c := mustNew(t, DefaultConfig())
	hits := []string{
		"As an AI language model, I cannot browse the internet.",
		"As an AI, I do not have access to real-time information.",
		"I'm sorry, but I cannot help with that request.",
		"I’m sorry, but I can’t do that.", // curly apostrophes
		"I cannot fulfill this request.",
		"Here are the facts. However, as an AI, I don't have personal opinions on the matter.",
		"Sure!\n\n**As an AI language model**, I don't have feelings.",
		"I AM AN AI AND CANNOT BROWSE THE WEB.",
		"The latest figure I know is from 2021, as of my last knowledge update.",
		"As   an  AI\nlanguage model, I can't.",                            // whitespace runs and a line break
		"Important: As an AI, I cannot give medical advice.",               // one label line is not a dialogue
		"\"I'm sorry, but I cannot help with that.\"",                      // a response that is one quotation
		"Step 1: Read the text.\nStep 2: As an AI, I can't open the link.", // step labels are not speakers
		"The dogs' owner asked. I'm sorry, but I can't help with that.",    // a possessive is not a quote
	}
	misses := []string{
		"A language model is a statistical model of text.",
		"GPT-4 is an AI language model developed by OpenAI.",
		"As an AI language model, GPT-4 can write code and poems.",
		"As an AI assistant, I will now translate the text into German.",
		"I cannot help but smile when I see puppies.",
		"Based on the passage, I cannot determine the author's age, so the answer is \"it is not possible to tell\".",
		"\"I'm sorry,\" he said, \"but I can't lend you money.\"",
		"She said, \"As an AI language model, I cannot do that\", mocking the chatbot.",
		"As an aid to navigation, lighthouses were vital.",
		"The word 'sorry' is an adjective.",
		"Sam: Are you coming tonight?\nAlex: I'm sorry, but I can't, I have to work late.\nSam: No problem!",
		"\"I'm sorry, I can't stay,\" I said, and closed the door.",
		"The tweet says: 'Sorry guys, I can't come tonight' so the label is sad.",
	}
	for _, s := range hits {
		if _, ok := c.MatchRefusal(s); !ok {
			t.Errorf("missed refusal: %q", s)
		}
	}
	for _, s := range misses {
		if lit, ok := c.MatchRefusal(s); ok {
			t.Errorf("false refusal (%q): %q", lit, s)
		}
	}
	// Only the response is checked.
	r := rec("flan.1", "", "Why do chatbots say 'As an AI language model, I cannot'?", "Because they are trained to state limits.")
	if reason, _ := c.Apply(&r); reason != "" {
		t.Errorf("question about refusals dropped: %s", reason)
	}
}

func TestRefusalConfigExtend(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Refusal.ExtraPhrases = []string{"^(as|being) a bot ~lim4", "beep boop"}
	cfg.Refusal.DisablePhrases = []string{"^sorry ~lim2"}
	c := mustNew(t, cfg)
	if lit, ok := c.MatchRefusal("Being a bot, I can't drive."); !ok || lit != "being a bot" {
		t.Errorf("extra phrase: got (%q,%v)", lit, ok)
	}
	if _, ok := c.MatchRefusal("He is being a bot, I can't stand it."); ok {
		t.Errorf("^ anchor ignored")
	}
	if _, ok := c.MatchRefusal("Robots go BEEP BOOP."); !ok {
		t.Errorf("plain extra phrase not matched")
	}
	if _, ok := c.MatchRefusal("Sorry, I can't."); ok {
		t.Errorf("disabled phrase still matches")
	}
}

func TestParsePhraseExpansion(t *testing.T) {
	p, lits, err := parsePhrase("^I (am|'m) (very |)sorry ~lim3")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"i am very sorry", "i am sorry", "i'm very sorry", "i'm sorry"}
	if !slices.Equal(lits, want) || p.anchor != anchorSentence || p.check != checkLimitation || p.window != 3 {
		t.Errorf("got %+v %q, want %q", p, lits, want)
	}
	for _, bad := range []string{"a (b", "a b)", "~fp", "x ~lim99", "()"} {
		if _, _, err := parsePhrase(bad); err == nil {
			t.Errorf("parsePhrase(%q): want error", bad)
		}
	}
}

func TestApplyConcurrent(t *testing.T) {
	c := mustNew(t, DefaultConfig())
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; i < 200; i++ {
				r := rec("flan.1", "", "q", "As an AI, I cannot see. "+strings.Repeat("word ", i))
				if reason, _ := c.Apply(&r); reason != ReasonRefusal {
					t.Errorf("got %q", reason)
				}
			}
			done <- true
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

func TestApplyKeepPathAllocs(t *testing.T) {
	if poolLossy {
		// The scan state is pooled; scripts/test.sh runs this test once more without -race.
		t.Skip("sync.Pool is lossy under -race")
	}
	c := mustNew(t, DefaultConfig())
	r := rec("flan.1", "You are a helpful assistant.", "What is 2+2?", strings.Repeat("The answer is four because two plus two equals four. ", 20))
	c.Apply(&r) // warm the buffer pool
	if n := testing.AllocsPerRun(100, func() { c.Apply(&r) }); n > 0 {
		t.Errorf("keep path allocates %.1f times per row", n)
	}
}

func BenchmarkRefusal1KB(b *testing.B) {
	c := mustNew(b, DefaultConfig())
	text := strings.Repeat("The committee reviewed the proposal and, after a long debate, approved it with minor changes. ", 11)[:1024]
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := c.MatchRefusal(text); ok {
			b.Fatal("unexpected hit")
		}
	}
}

func BenchmarkApplyDefault1KB(b *testing.B) {
	c := mustNew(b, DefaultConfig())
	r := rec("flan.1", "You are an AI assistant.", "Summarize the article.", strings.Repeat("The committee reviewed the proposal and, after a long debate, approved it with minor changes. ", 11)[:1024])
	b.ReportAllocs()
	for b.Loop() {
		c.Apply(&r)
	}
}

// TestReadmeListsPhrases keeps README.md's phrase list (the names disable_phrases takes) in sync with the code.
func TestReadmeListsPhrases(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		lines[l] = true
	}
	for _, p := range builtinRefusalPhrases {
		if !lines[p] {
			t.Errorf("README.md does not list built-in phrase %q on its own line", p)
		}
	}
}
