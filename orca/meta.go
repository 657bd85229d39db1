package orca

// The scanner works from a compact copy of the footer: parquet-go's decoded footer keeps every column
// chunk's statistics (arrow-rs writes whole values as min/max, so a file of 25,000 one-row row groups
// has a 19 MB footer that decodes to ~95 MB of objects), and a run keeps every input open.

// chunkMeta is what the scanner needs of one column chunk.
type chunkMeta struct {
	start, end int64 // byte range of the chunk's pages
	codec      int32
	missing    bool   // the row group has no chunk for this column
	filePath   string // set when the chunk is stored in another file (not supported)
	encrypted  bool
}

// groupMeta is one row group: its row count and the chunks of the four OpenOrca columns (Columns order).
type groupMeta struct {
	rows   int64
	chunks [4]chunkMeta
}

// colMeta locates an OpenOrca column among the file's leaf columns.
type colMeta struct {
	leaf   int
	maxDef int
	found  bool
}

// indexFooter fills f.groups and f.cols from parquet-go's footer.
func (f *File) indexFooter() {
	schema := f.pf.Schema()
	for i, name := range Columns {
		if leaf, ok := schema.Lookup(name); ok {
			f.cols[i] = colMeta{leaf: leaf.ColumnIndex, maxDef: leaf.MaxDefinitionLevel, found: true}
		}
	}
	md := f.pf.Metadata()
	f.numRows = md.NumRows
	f.groups = make([]groupMeta, len(md.RowGroups))
	for g := range md.RowGroups {
		rg := &md.RowGroups[g]
		gm := &f.groups[g]
		gm.rows = rg.NumRows
		for i, c := range f.cols {
			if !c.found || c.leaf >= len(rg.Columns) {
				gm.chunks[i].missing = true
				continue
			}
			cc := &rg.Columns[c.leaf]
			m := &cc.MetaData
			start := m.DataPageOffset
			if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < start {
				start = m.DictionaryPageOffset
			}
			gm.chunks[i] = chunkMeta{start: start, end: start + m.TotalCompressedSize, codec: int32(m.Codec),
				filePath: cc.FilePath, encrypted: len(cc.EncryptedColumnMetadata) > 0}
			if m.TotalCompressedSize < 0 {
				gm.chunks[i].end = -1
			}
		}
	}
}

// ReleaseFooter drops parquet-go's decoded footer, keeping only what Scan needs (Parquet and Inspect
// are unavailable afterwards). A run calls it on every input it holds open.
func (f *File) ReleaseFooter() { f.pf = nil }
