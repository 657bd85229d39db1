package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// textGen builds English-like text from the word lists. It holds the single random stream, so the order of calls
// fixes the output: never call it from more than one goroutine or in a data-dependent order that could change.
type textGen struct {
	rng *rand.Rand
	// write is set by question when it asked for first-person text, for the response that follows; noWrite
	// keeps question from asking for it (refusal rows, whose label would otherwise be ambiguous).
	write, noWrite bool
}

func (g *textGen) intn(n int) int { return g.rng.IntN(n) }

// chance returns true with probability p.
func (g *textGen) chance(p float64) bool { return g.rng.Float64() < p }

func pick[T any](g *textGen, xs []T) T { return xs[g.rng.IntN(len(xs))] }

// logNormal draws a length with the given median and log-sigma, clamped to [lo, hi].
func (g *textGen) logNormal(median, sigma float64, lo, hi int) int {
	v := int(math.Round(median * math.Exp(sigma*g.rng.NormFloat64())))
	return max(lo, min(hi, v))
}

var contractions = []string{"it’s", "don’t", "isn’t", "can’t", "they’re", "it's", "don't", "doesn't", "wasn't", "you're", "we’ve", "that's"}

// word returns one lower-case word, function words about 45% of the time.
func (g *textGen) word() string {
	if g.chance(0.45) {
		return pick(g, functionWords)
	}
	return pick(g, contentWords)
}

// sentence returns one sentence of 6–24 words ending in punctuation, sometimes with numbers, names, quotes,
// dashes and contractions (the allowed non-ASCII punctuation ’ – “ ” — appears here).
func (g *textGen) sentence(b *strings.Builder) {
	n := 6 + g.intn(19)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		r := g.intn(100)
		if i == 0 {
			r = 99 // a sentence starts with a capitalised plain word
		}
		switch {
		case r < 4:
			b.WriteString(pick(g, properNames))
		case r < 7:
			g.number(b)
		case r < 9:
			b.WriteString(pick(g, contractions))
		case r < 10 && i > 2 && i < n-2:
			b.WriteString("— ")
			b.WriteString(g.word())
		case r < 11 && i < n-3:
			b.WriteString("“")
			b.WriteString(g.word())
			b.WriteByte(' ')
			b.WriteString(g.word())
			b.WriteString("”")
		default:
			w := g.word()
			if i == 0 {
				w = strings.ToUpper(w[:1]) + w[1:]
			}
			b.WriteString(w)
		}
		if i < n-1 && g.chance(0.06) {
			b.WriteByte(',')
		}
	}
	switch r := g.intn(20); {
	case r == 0:
		b.WriteByte('?')
	case r == 1:
		b.WriteByte('!')
	default:
		b.WriteByte('.')
	}
}

func (g *textGen) number(b *strings.Builder) {
	switch g.intn(6) {
	case 0:
		fmt.Fprintf(b, "%d", 1800+g.intn(226))
	case 1:
		y := 1900 + g.intn(100)
		fmt.Fprintf(b, "%d–%d", y, y+1+g.intn(20))
	case 2:
		fmt.Fprintf(b, "%d.%d", g.intn(100), g.intn(10))
	case 3:
		fmt.Fprintf(b, "%d%%", g.intn(101))
	case 4:
		fmt.Fprintf(b, "%d,%03d", 1+g.intn(999), g.intn(1000))
	default:
		fmt.Fprintf(b, "%d", g.intn(1000))
	}
}

// paragraph writes sentences until b has grown by at least target bytes.
func (g *textGen) paragraph(b *strings.Builder, target int) {
	start := b.Len()
	first := true
	for b.Len()-start < target {
		if !first {
			b.WriteByte(' ')
		}
		first = false
		g.sentence(b)
	}
}

// prose writes about target bytes of paragraphs mixed with the constructs OpenOrca answers use: bullet and
// numbered lists, occasional code blocks, step labels.
func (g *textGen) prose(b *strings.Builder, target int) {
	start := b.Len()
	for b.Len()-start < target {
		if b.Len() > start {
			b.WriteString("\n\n")
		}
		left := target - (b.Len() - start)
		switch r := g.intn(100); {
		case r < 8 && left > 120:
			g.list(b, left)
		case r < 11 && left > 150:
			g.codeBlock(b)
		default:
			g.paragraph(b, min(left, 200+g.intn(500)))
		}
	}
}

func (g *textGen) list(b *strings.Builder, left int) {
	n := 2 + g.intn(5)
	numbered := g.chance(0.5)
	for i := 0; i < n && left > 0; i++ {
		if i > 0 {
			b.WriteByte('\n')
		}
		if numbered {
			fmt.Fprintf(b, "%d. ", i+1)
		} else {
			b.WriteString("- ")
		}
		s := b.Len()
		g.sentence(b)
		left -= b.Len() - s + 3
	}
}

var codeLangs = []string{"python", "javascript", "go", "sql", ""}

func (g *textGen) codeBlock(b *strings.Builder) {
	lang := pick(g, codeLangs)
	fmt.Fprintf(b, "```%s\n", lang)
	v1, v2 := pick(g, contentWords), pick(g, contentWords)
	switch lang {
	case "python":
		fmt.Fprintf(b, "def %s_%s(items):\n    total = 0\n    for x in items:\n        if x > %d:\n            total += x * %d\n    return total\n\nprint(%s_%s([1, 2, 3]))\n", v1, v2, g.intn(10), 1+g.intn(9), v1, v2)
	case "javascript":
		fmt.Fprintf(b, "const %s = [%d, %d, %d];\nconst %s = %s.map((x) => x * %d).filter((x) => x > %d);\nconsole.log(%s);\n", v1, g.intn(50), g.intn(50), g.intn(50), v2, v1, 1+g.intn(5), g.intn(40), v2)
	case "go":
		fmt.Fprintf(b, "func %s(n int) int {\n\tif n < %d {\n\t\treturn n\n\t}\n\treturn %s(n-1) + %s(n-2)\n}\n", v1, 2+g.intn(3), v1, v1)
	case "sql":
		fmt.Fprintf(b, "SELECT %s, COUNT(*) AS n\nFROM %s\nWHERE year >= %d\nGROUP BY %s\nORDER BY n DESC;\n", v1, v2, 1990+g.intn(30), v1)
	default:
		fmt.Fprintf(b, "$ %s --%s=%d input.txt > output.txt\n", v1, v2, g.intn(100))
	}
	b.WriteString("```")
}

// sentenceString returns one sentence as a string.
func (g *textGen) sentenceString() string {
	var b strings.Builder
	g.sentence(&b)
	return b.String()
}

// phrase returns n lower-case words.
func (g *textGen) phrase(n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = pick(g, contentWords)
	}
	return strings.Join(ws, " ")
}
