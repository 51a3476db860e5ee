module capos.example/polyglot-go

go 1.21
