-- Loads the nvim-lint snippet of docs/editors.md without nvim-lint: the two
-- modules it requires are stand-ins that record the linter it defines. The
-- buffer is the file being linted, so `nvim_buf_get_name(0)` means something.
local snippet, file, result_path = arg[1], arg[2], arg[3]
package.loaded["lint"] = { linters = {}, linters_by_ft = {}, try_lint = function() end }
package.loaded["lint.parser"] = {
  from_errorformat = function(efm, skeleton) return { efm = efm, skeleton = skeleton } end,
}
vim.cmd.edit(vim.fn.fnameescape(file))
dofile(snippet)
local lint = require("lint")
local linter = lint.linters.caplint
local args = {}
for _, arg in ipairs(linter.args) do
  table.insert(args, type(arg) == "function" and arg() or arg)
end
vim.fn.writefile({ vim.json.encode({
  cmd = linter.cmd, args = args, stdin = linter.stdin, stream = linter.stream,
  ignore_exitcode = linter.ignore_exitcode, efm = linter.parser.efm,
  skeleton = linter.parser.skeleton, by_ft = lint.linters_by_ft,
  info = vim.diagnostic.severity.INFO,
}) }, result_path)
