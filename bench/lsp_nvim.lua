-- A real editor's figure for bench/lsp_latency.py: headless Neovim's own LSP
-- client attached to `caplint lsp --debounce-ms 0` (and Neovim told not to
-- debounce its didChange either), timing in Neovim's clock from the buffer
-- edit that sends didChange to the diagnostics arriving. Each edit flips one
-- service's `restart: unless-stopped` line to `privileged: true` and back, as
-- the byte-level measurement does.
--
-- Two times per edit: when Neovim calls the publishDiagnostics handler (it has
-- read and decoded the message), and when its default handler has returned
-- (the diagnostics are set on the buffer).
--
-- Environment: CAPLINT_PYTHON (the interpreter), CAPLINT_FILE (the Compose
-- file), CAPLINT_RUNS (edits measured; two more warm up), CAPLINT_RESULT (a
-- JSON file for the results).

local python = assert(os.getenv("CAPLINT_PYTHON"))
local path = assert(os.getenv("CAPLINT_FILE"))
local runs = tonumber(os.getenv("CAPLINT_RUNS") or "30")
local result_path = assert(os.getenv("CAPLINT_RESULT"))
local WAIT_MS = 15000
local WARM_UP = 2
local result = { handler = {}, shown = {} }

local function finish(err)
  result.error = err
  vim.fn.writefile({ vim.json.encode(result) }, result_path)
  vim.cmd(err and "cquit! 1" or "qall!")
end

local ok, err = xpcall(function()
  vim.cmd("edit " .. vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  local default = assert(vim.lsp.handlers["textDocument/publishDiagnostics"])
  local last = { version = nil }
  local client_id = assert(vim.lsp.start({
    name = "caplint",
    cmd = { python, "-m", "caplint", "lsp", "--debounce-ms", "0" },
    root_dir = vim.fs.dirname(path),
    flags = { debounce_text_changes = 0 },
    handlers = {
      ["textDocument/publishDiagnostics"] = function(e, params, ctx, config)
        local handler = vim.uv.hrtime()
        default(e, params, ctx, config)
        last = { version = params.version, handler = handler, shown = vim.uv.hrtime(), count = #params.diagnostics }
      end,
    },
  }, { bufnr = buf }), "vim.lsp.start returned nil")
  if not vim.wait(WAIT_MS, function() return last.version ~= nil end, 1) then
    error("no diagnostics after opening")
  end
  result.diagnostics = last.count
  local row
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if line == "    restart: unless-stopped" then
      row = i - 1
      break
    end
  end
  assert(row, "no `restart: unless-stopped` line")
  for i = 1, runs + WARM_UP do
    local new = (i % 2 == 1) and "    privileged: true" or "    restart: unless-stopped"
    local start = vim.uv.hrtime()
    vim.api.nvim_buf_set_lines(buf, row, row + 1, false, { new })  -- sends didChange at once
    local version = vim.lsp.util.buf_versions[buf]
    if not vim.wait(WAIT_MS, function() return last.version == version end, 1) then
      error("no diagnostics for version " .. tostring(version))
    end
    if i > WARM_UP then
      table.insert(result.handler, (last.handler - start) / 1e6)
      table.insert(result.shown, (last.shown - start) / 1e6)
    end
  end
  local client = assert(vim.lsp.get_client_by_id(client_id))
  client:stop()
  vim.wait(WAIT_MS, function() return client:is_stopped() end, 10)
end, debug.traceback)

finish(not ok and tostring(err) or nil)
