package tools

func registerBuiltins(r *Registry) {
	Add(r, Meta{Name: "start_kernel", Title: "Start kernel", Idempotent: true,
		Description: "Start (or reuse) the Jupyter kernel of a notebook. Picks venv_path (a virtualenv/conda prefix with ipykernel, activated for real), else kernel_name (an installed kernelspec), else the workspace's environment. Returns the kernel's language, status and pid."},
		startKernel)
	Add(r, Meta{Name: "stop_kernel", Title: "Stop kernel", Destructive: true, Idempotent: true,
		Description: "Shut the notebook's kernel down (shutdown request, then SIGTERM, then SIGKILL). All variables are lost."},
		stopKernel)
	Add(r, Meta{Name: "restart_kernel", Title: "Restart kernel", Destructive: true,
		Description: "Restart the notebook's kernel: variables are cleared, the same environment is kept."},
		restartKernel)
	Add(r, Meta{Name: "interrupt_kernel", Title: "Interrupt kernel", Idempotent: true,
		Description: "Interrupt the cell the notebook's kernel is running (KeyboardInterrupt); queued cells are not run."},
		interruptKernel)
	Add(r, Meta{Name: "run_cell_async", Title: "Run cell (async)", Destructive: true, OpenWorld: true, InterruptOnCancel: true,
		Description: "Queue a cell on the notebook's kernel and return a task_id at once; follow it with get_execution_stream. Address the cell by cell_id (preferred) and/or index; code_override runs other code. Runs the live buffer's source when the notebook is open in VS Code."},
		runCellAsync)
	Add(r, Meta{Name: "run_cell", Title: "Run cell", Destructive: true, OpenWorld: true, InterruptOnCancel: true,
		Description: "Run a cell and wait for it to finish (timeout_s, default 60), returning llm_summary and raw_outputs. Sends progress notifications; cancelling the call interrupts the kernel. For long cells prefer run_cell_async."},
		runCell)
	Add(r, Meta{Name: "run_cells", Title: "Run cells", Destructive: true, OpenWorld: true, InterruptOnCancel: true,
		Description: "Run several code cells in order on the notebook's kernel and wait: cell_ids, or the index range start…end (default all). Stops at the first error unless stop_on_error is false; answers each cell's status and a short output summary. Cancelling interrupts the running cell and drops the rest."},
		runCells)
	Add(r, Meta{Name: "get_execution_stream", Title: "Get execution stream", ReadOnly: true,
		Description: "Outputs of a task since a cursor (since = previous next), with its status and execution count; wait_ms long-polls for new output. Nothing is lost and order is kept. pending_input means the code waits for input(): answer with submit_input."},
		getExecutionStream)
	Add(r, Meta{Name: "submit_input", Title: "Submit input",
		Description: "Answer the input() prompt a running task waits for."},
		submitInput)
	Add(r, Meta{Name: "get_kernel_info", Title: "Get kernel info", ReadOnly: true,
		Description: "Status, language, implementation, environment, pid and restart count of the notebook's kernel."},
		getKernelInfo)
	Add(r, Meta{Name: "list_kernels", Title: "List kernels", ReadOnly: true,
		Description: "Every running kernel with its notebook, status and environment."},
		listKernels)
	Add(r, Meta{Name: "list_environments", Title: "List environments", ReadOnly: true,
		Description: "Python environments (venv, conda, system) and installed kernelspecs a kernel can run in, and whether ipykernel is installed."},
		listEnvironments)
	Add(r, Meta{Name: "get_notebook_outline", Title: "Get notebook outline", ReadOnly: true,
		Description: "The notebook's cells (index, id, type, heading or first line, execution count, output summary) from the live buffer when open, else the file. Read this first and address cells by id afterwards."},
		getOutline)
	Add(r, Meta{Name: "get_editor_state", Title: "Get editor state", ReadOnly: true,
		Description: "Where the person is in VS Code: the active notebook, the cell they are on, selected cells and text, visible cells. Nothing moves their view. Headless: says no editor is attached."},
		getEditorState)
	Add(r, Meta{Name: "read_cell_smart", Title: "Read cell", ReadOnly: true,
		Description: "One cell's source and a bounded summary of its outputs (images as size/dimensions, plotly as traces, errors as ename/evalue); include_raw_outputs adds the nbformat outputs."},
		readCellSmart)
	Add(r, Meta{Name: "search_notebook", Title: "Search notebook", ReadOnly: true,
		Description: "Find cells whose source (and outputs) contain text or match an RE2 regex; returns cell index, id and the matching lines."},
		searchNotebook)
	Add(r, Meta{Name: "propose_edit", Title: "Edit cell", Destructive: true,
		Description: "Replace a cell's source. In VS Code it is applied to the open buffer as an undoable edit; headless it is written atomically to the file, refused if the file changed since it was read."},
		proposeEdit)
	Add(r, Meta{Name: "edit_cell_source", Title: "Edit part of a cell", Destructive: true,
		Description: "Replace old_string with new_string inside one cell (exact match, must be unique unless replace_all). Refused with the match count when absent or ambiguous; applied like propose_edit (undoable in VS Code). Answers the changed lines."},
		editCellSource)
	Add(r, Meta{Name: "create_notebook", Title: "Create notebook",
		Description: "Create a new .ipynb (nbformat 4.5, cell ids, kernelspec metadata) with optional first cells; never overwrites an existing file."},
		createNotebook)
	Add(r, Meta{Name: "append_cell", Title: "Append cell",
		Description: "Add a cell at the end of the notebook; returns its new cell_id."},
		appendCell)
	Add(r, Meta{Name: "insert_cell", Title: "Insert cell",
		Description: "Insert a cell at index (or after after_cell_id); returns its new cell_id."},
		insertCell)
	Add(r, Meta{Name: "delete_cell", Title: "Delete cell", Destructive: true,
		Description: "Delete a cell (by cell_id, preferred, and/or index). Undoable in VS Code."},
		deleteCell)
	Add(r, Meta{Name: "move_cell", Title: "Move cell",
		Description: "Move a cell to to_index."},
		moveCell)
}
