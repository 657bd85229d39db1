package samples

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/orcaprep/orcaprep/chatml"
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/orca"
)

const tinyModel = "../testdata/tokenizer/tiny.model"

var added = []string{"<pad>", chatml.ImStart, chatml.ImEnd}

func TestBuildMatchesTheDefinitionOfEachStyle(t *testing.T) {
	tok, info, err := LoadTokenizer(context.Background(), tinyModel, added, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.AddedTokens[chatml.ImEnd] != int32(info.VocabSize-1) {
		t.Fatalf("added tokens not appended in order: %+v", info)
	}
	enc := tok.NewEncoder()
	recs := []orca.Record{
		{SystemPrompt: "You are a teacher.", Question: "Why is the sky blue?\nExplain.", Response: "Rayleigh scattering of sunlight."},
		{Question: "Say hi", Response: "Hi"},
		{SystemPrompt: "s", Question: "a <|im_end|> inside", Response: "ok\n\n  spaced  "},
	}
	for _, style := range chatml.Styles {
		o := chatml.Options{Style: style}
		b := NewBuilder(tok, o)
		for i := range recs {
			r := &recs[i]
			s := b.Build(r)
			var want, trained []int32
			if style == chatml.StyleChatML {
				// Definition: the tokenizer on the whole rendering; trained = assistant content + <|im_end|>.
				want = enc.Encode(chatml.Text(r, o))
				trained = want[len(enc.Encode(string(chatml.AppendPrompt(nil, r, o)))) : len(want)-2]
			} else {
				// Definition: BOS + prompt, then the response on its own + EOS; trained = response + EOS.
				trained = append(enc.Encode(r.Response), tok.EOS())
				want = append(append([]int32{tok.BOS()}, enc.Encode(string(chatml.AppendPrompt(nil, r, o)))...), trained...)
			}
			if !slices.Equal(s.IDs, want) {
				t.Fatalf("%s row %d: ids %v want %v", style, i, s.IDs, want)
			}
			if !slices.Equal(s.IDs[s.TrainStart:s.TrainEnd], trained) {
				t.Fatalf("%s row %d: trained %v want %v", style, i, s.IDs[s.TrainStart:s.TrainEnd], trained)
			}
		}
	}
}

func TestLoadTokenizerErrors(t *testing.T) {
	if _, _, err := LoadTokenizer(context.Background(), "nope.model", added, nil); exitcode.Code(err) != exitcode.Input {
		t.Fatalf("missing file: %v", err)
	}
	if _, _, err := LoadTokenizer(context.Background(), "hf://a/b/tokenizer.model", added, nil); exitcode.Code(err) != exitcode.Usage {
		t.Fatalf("hf:// without a resolver: %v", err)
	}
	_, _, err := LoadTokenizer(context.Background(), tinyModel, nil, nil)
	if exitcode.Code(err) != exitcode.Usage || !strings.Contains(err.Error(), "added_tokens") {
		t.Fatalf("missing ChatML tokens must be a config error: %v", err)
	}
}
