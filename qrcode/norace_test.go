//go:build !race

package qrcode

const raceEnabled = false
