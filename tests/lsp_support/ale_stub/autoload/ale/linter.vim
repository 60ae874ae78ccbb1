" A stand-in for ALE's ale#linter#Define that records what a config defines.
let g:caplint_defined = get(g:, 'caplint_defined', [])
function! ale#linter#Define(filetype, linter) abort
  call add(g:caplint_defined, extend({'filetype': a:filetype}, a:linter))
endfunction
