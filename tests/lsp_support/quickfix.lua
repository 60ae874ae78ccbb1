-- What Vim's errorformat engine makes of some lines: the engine nvim-lint's
-- from_errorformat uses, and the syntax ALE and efm-langserver share.
local efm, lines_path, result_path = arg[1], arg[2], arg[3]
local qf = vim.fn.getqflist({ efm = efm, lines = vim.fn.readfile(lines_path) })
local out = {}
for _, item in ipairs(qf.items) do
  table.insert(out, { file = item.bufnr > 0 and vim.api.nvim_buf_get_name(item.bufnr) or "",
    lnum = item.lnum, col = item.col, type = item.type, text = item.text, valid = item.valid })
end
vim.fn.writefile({ vim.json.encode(out) }, result_path)
