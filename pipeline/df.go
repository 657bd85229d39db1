package pipeline

import (
	"context"

	"github.com/orcaprep/orcaprep/orca"
)

// The DF pass of template-aware near dedupe (shingles.go) counts the shingles of every selected row before
// any signature is made. `run` counts all inputs in one sketch; a staged run counts each map range in a df
// task, adds the sketches slice by slice in templates tasks and hands the template set to the map tasks
// (staged_df.go). Both read the rows with scanFields.

// scanFields is the DF pass's source: the spans of the selected inputs, read by the parallel page reader
// with only the id and the df_fields columns decoded (the responses, most of the bytes, are skipped by the
// default df_fields: [question]).
func scanFields(files []*orca.File, inputs []Input, spans []span, workers int) dfSource {
	return func(ctx context.Context, batchSize int, fields []string, fn func([]orca.Record) error) error {
		for _, sp := range spans {
			if !inputs[sp.file].Selected || (sp.to > 0 && sp.from >= sp.to) {
				continue
			}
			o := orca.ScanOptions{From: sp.from, To: sp.to, BatchRows: batchSize, Workers: workers, Fields: fields}
			if err := files[sp.file].Each(ctx, o, fn); err != nil {
				return err
			}
		}
		return nil
	}
}
