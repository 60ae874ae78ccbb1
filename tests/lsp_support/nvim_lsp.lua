-- Drives Neovim's built-in LSP client against `python -m caplint lsp`, the
-- way a user's editor would: open, wait for diagnostics, edit, :w, wait again,
-- apply a quick fix. Every observation goes into a JSON file that
-- tests/test_neovim.py reads; Neovim itself only ever exits.
--
-- Environment: CAPLINT_PYTHON (the interpreter), CAPLINT_DIR (a folder holding
-- docker-compose.yml and compose.override.yaml), CAPLINT_RESULT (the JSON path).

local python = assert(os.getenv("CAPLINT_PYTHON"))
local dir = assert(os.getenv("CAPLINT_DIR"))
local result_path = assert(os.getenv("CAPLINT_RESULT"))
local WAIT_MS = 15000
local result = { steps = {} }

local function finish(err)
  result.error = err
  vim.fn.writefile({ vim.json.encode(result) }, result_path)
  vim.cmd(err and "cquit! 1" or "qall!")
end

local function now_ms()
  return vim.uv.hrtime() / 1e6
end

-- Waits for `done()`; records how long it took under `name`.
local function wait_for(name, done)
  local start = now_ms()
  if not vim.wait(WAIT_MS, done, 10) then
    finish("timed out waiting for " .. name)
  end
  result.steps[name] = now_ms() - start
end

local function diagnostics(buf)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(out, { lnum = d.lnum, col = d.col, end_col = d.end_col, code = d.code,
      source = d.source, severity = d.severity, message = d.message })
  end
  table.sort(out, function(a, b) return a.lnum < b.lnum end)
  return out
end

local function start_server(buf)
  return vim.lsp.start({
    name = "caplint",
    cmd = { python, "-m", "caplint", "lsp" },
    root_dir = dir,
  }, { bufnr = buf })
end

local ok, err = xpcall(function()
  -- 1. Open an insecure Compose file; the diagnostic arrives on its line.
  vim.cmd("edit " .. vim.fn.fnameescape(dir .. "/docker-compose.yml"))
  local buf = vim.api.nvim_get_current_buf()
  local client_id = assert(start_server(buf), "vim.lsp.start returned nil")
  wait_for("first_diagnostics", function() return #vim.diagnostic.get(buf) > 0 end)
  local client = assert(vim.lsp.get_client_by_id(client_id))
  result.offset_encoding = client.offset_encoding
  result.save_registered = client.server_capabilities.textDocumentSync.save
  result.opened = diagnostics(buf)

  -- 2. Edit `privileged: true` to `false` as a user would, then :w.
  local row = result.opened[1].lnum
  vim.api.nvim_win_set_cursor(0, { row + 1, 0 })
  vim.cmd("normal! f:wcwfalse")
  result.edited_line = vim.api.nvim_buf_get_lines(buf, row, row + 1, false)[1]
  result.before_save = #vim.diagnostic.get(buf)
  vim.cmd("write")
  wait_for("cleared_after_save", function() return #vim.diagnostic.get(buf) == 0 end)
  result.after_save = diagnostics(buf)

  -- 3. A misspelt capability after non-ASCII text: check the column, then
  --    apply the server's quick fix through Neovim's own code-action path.
  vim.cmd("edit " .. vim.fn.fnameescape(dir .. "/compose.override.yaml"))
  local buf2 = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(buf2, client_id)
  wait_for("override_diagnostics", function() return #vim.diagnostic.get(buf2) > 0 end)
  result.override = diagnostics(buf2)
  local typo = result.override[1]
  vim.api.nvim_win_set_cursor(0, { typo.lnum + 1, typo.col })
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action) return action.kind == "quickfix" end,
  })
  wait_for("quick_fix_applied", function()
    return vim.api.nvim_buf_get_lines(buf2, typo.lnum, typo.lnum + 1, false)[1]:find("DAC_OVERRIDE", 1, true) ~= nil
  end)
  result.fixed_line = vim.api.nvim_buf_get_lines(buf2, typo.lnum, typo.lnum + 1, false)[1]
  wait_for("cleared_after_fix", function() return #vim.diagnostic.get(buf2) == 0 end)

  -- 4. Closing the buffer stops diagnostics for it.
  vim.cmd("bwipeout! " .. buf2)
  client:stop()
  wait_for("server_stopped", function() return client:is_stopped() end)
end, debug.traceback)

finish(not ok and tostring(err) or nil)
