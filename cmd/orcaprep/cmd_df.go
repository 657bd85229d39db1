package main

func init() {
	addCommand(stageCommand("df", "count shingle document frequencies of one task's rows (array task; template-aware near dedupe only)",
		`df reads the task's row groups (the map task's) and counts, for every shingle of the near config's
df_fields, in how many selected rows it occurs, into a count-min sketch of the size a single-process run
uses for the whole input; it writes the sketch in as many parts as there are templates tasks to
DIR/df/<task>/. Runs only when the recipe's near dedupe is template-aware (max_shingle_df > 0); otherwise
the plan has no df tasks and the command exits 0.`, true))
}
