module github.com/resellerconsole/reseller

go 1.26.8
