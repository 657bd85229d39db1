package pipeline

import (
	"github.com/orcaprep/orcaprep/samples"
	"github.com/orcaprep/orcaprep/shard"
)

// IgnoreIndex is the label of a token the loss ignores.
const IgnoreIndex = samples.IgnoreIndex

// TokenizerInfo is recorded in the manifest so validate and trainers know the id space.
type TokenizerInfo = samples.TokenizerInfo

// appendTokenizedLine writes {"input_ids","attention_mask","labels"[, "position_ids"]} for one sample.
func appendTokenizedLine(dst []byte, s samples.Sample) []byte {
	dst = append(dst, `{"input_ids":`...)
	dst = shard.AppendInt32s(dst, s.IDs)
	dst = append(dst, `,"attention_mask":`...)
	dst = appendOnes(dst, len(s.IDs))
	dst = append(dst, `,"labels":`...)
	dst = appendLabels(dst, s.IDs, s.TrainStart, s.TrainEnd)
	return append(dst, '}')
}

func appendOnes(dst []byte, n int) []byte {
	dst = append(dst, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '1')
	}
	return append(dst, ']')
}

// appendLabels writes ids with everything outside [start, end) replaced by IgnoreIndex.
func appendLabels(dst []byte, ids []int32, start, end int) []byte {
	dst = append(dst, '[')
	for i, id := range ids {
		if i > 0 {
			dst = append(dst, ',')
		}
		if i < start || i >= end {
			dst = append(dst, "-100"...)
			continue
		}
		dst = shard.AppendInt32(dst, id)
	}
	return append(dst, ']')
}
