package orca

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Inspection summarises one Parquet file for `orcaprep inspect`.
type Inspection struct {
	Path      string           `json:"path"`
	Bytes     int64            `json:"bytes"`
	CreatedBy string           `json:"created_by"`
	Rows      int64            `json:"rows"`
	Schema    []ColumnInfo     `json:"schema"`
	RowGroups []RowGroupInfo   `json:"row_groups"`
	Submixes  map[string]int64 `json:"rows_per_submix"`
	NullIDs   int64            `json:"null_ids"`
}

// ColumnInfo is one top-level column.
type ColumnInfo struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Optional bool   `json:"optional"`
}

// RowGroupInfo is one row group with its column chunks' codecs and encodings.
type RowGroupInfo struct {
	Rows              int64             `json:"rows"`
	CompressedBytes   int64             `json:"compressed_bytes"`
	UncompressedBytes int64             `json:"uncompressed_bytes"`
	Codecs            map[string]string `json:"codecs"`
	Encodings         map[string]string `json:"encodings"`
}

// Inspect opens path (checking the OpenOrca schema) and reads its id column to count rows per submix.
func Inspect(ctx context.Context, path string) (*Inspection, error) {
	f, err := Open(path, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	md := f.pf.Metadata()
	in := &Inspection{Path: path, Bytes: f.Size, CreatedBy: md.CreatedBy, Rows: f.NumRows(), Submixes: map[string]int64{}}
	for _, fld := range f.pf.Schema().Fields() {
		in.Schema = append(in.Schema, ColumnInfo{Name: fld.Name(), Type: fld.Type().String(), Optional: fld.Optional()})
	}
	for _, rg := range md.RowGroups {
		info := RowGroupInfo{Rows: rg.NumRows, Codecs: map[string]string{}, Encodings: map[string]string{}}
		for _, cc := range rg.Columns {
			cm := cc.MetaData
			name := strings.Join(cm.PathInSchema, ".")
			info.CompressedBytes += cm.TotalCompressedSize
			info.UncompressedBytes += cm.TotalUncompressedSize
			info.Codecs[name] = cm.Codec.String()
			var encs []string
			for _, e := range cm.Encoding {
				encs = append(encs, e.String())
			}
			info.Encodings[name] = strings.Join(encs, ",")
		}
		in.RowGroups = append(in.RowGroups, info)
	}
	err = f.Each(ctx, ScanOptions{IDsOnly: true, BatchRows: 4096}, func(recs []Record) error {
		for i := range recs {
			in.Submixes[recs[i].Submix()]++
			if recs[i].Nulls&NullID != 0 {
				in.NullIDs++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return in, nil
}

// WriteText prints the inspection for people.
func (in *Inspection) WriteText(w io.Writer) {
	fmt.Fprintf(w, "file:        %s\nbytes:       %d\ncreated by:  %s\nrows:        %d\nrow groups:  %d\n", in.Path, in.Bytes, in.CreatedBy, in.Rows, len(in.RowGroups))
	fmt.Fprintln(w, "schema:")
	for _, c := range in.Schema {
		opt := "required"
		if c.Optional {
			opt = "optional"
		}
		fmt.Fprintf(w, "  %-16s %-10s %s\n", c.Name, c.Type, opt)
	}
	fmt.Fprintln(w, "row groups:")
	for i, rg := range in.RowGroups {
		names := make([]string, 0, len(rg.Codecs))
		for n := range rg.Codecs {
			names = append(names, n)
		}
		sort.Strings(names)
		var parts []string
		for _, n := range names {
			parts = append(parts, fmt.Sprintf("%s=%s[%s]", n, rg.Codecs[n], rg.Encodings[n]))
		}
		fmt.Fprintf(w, "  #%-4d rows %-9d %10d bytes (%d uncompressed)  %s\n", i, rg.Rows, rg.CompressedBytes, rg.UncompressedBytes, strings.Join(parts, " "))
	}
	fmt.Fprintln(w, "rows per submix:")
	for _, s := range append(append([]string{}, Submixes...), SubmixOther) {
		if n, ok := in.Submixes[s]; ok {
			fmt.Fprintf(w, "  %-6s %d\n", s, n)
		}
	}
	if in.NullIDs > 0 {
		fmt.Fprintf(w, "null ids:    %d\n", in.NullIDs)
	}
}

// InspectOptions are the `orcaprep inspect` flags.
type InspectOptions struct {
	Files []string
	JSON  bool
}

// RunInspect inspects each file and prints the result.
func RunInspect(ctx context.Context, o InspectOptions, w io.Writer) error {
	var all []*Inspection
	for _, p := range o.Files {
		in, err := Inspect(ctx, p)
		if err != nil {
			return err
		}
		if o.JSON {
			all = append(all, in)
			continue
		}
		in.WriteText(w)
	}
	if o.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	}
	return nil
}
