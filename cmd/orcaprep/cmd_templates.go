package main

func init() {
	addCommand(stageCommand("templates", "add one part of every df sketch into template bits (array task; template-aware near dedupe only)",
		`templates task j adds part j of every df task's sketch (reading only that part of each, sha256-checked)
and writes the shingles found in more than max_shingle_df rows as bits to DIR/templates/<task>/; map tasks
read every part's bits. The sum does not depend on the task count, so signatures are those of one process.`, true))
}
