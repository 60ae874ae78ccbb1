" Loads the ALE snippet of docs/editors.md without ALE: the ale#linter#Define
" on the runtime path beside this file only records what the snippet defines.
" With $CAPLINT_OUTPUT set, the recorded callback also parses that caplint
" output, as ALE would call it.
let g:caplint_defined = []
execute 'set runtimepath^=' . fnameescape(expand('<sfile>:p:h') . '/ale_stub')
execute 'source' fnameescape($CAPLINT_SNIPPET)

let s:result = {'defined': g:caplint_defined}
if !empty($CAPLINT_OUTPUT)
  let s:result.parsed = call(g:caplint_defined[0].callback, [bufnr(''), readfile($CAPLINT_OUTPUT)])
endif
call writefile([json_encode(s:result)], $CAPLINT_RESULT)
qall!
