module capos.example/go-tour

go 1.21
