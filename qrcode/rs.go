package qrcode

// Arithmetic in GF(256) built on the primitive polynomial
// x^8+x^4+x^3+x^2+1 (0x11D) with generator α = 2, as the standard requires
// (7.5.2). gfExp is doubled so that a product's exponent, the sum of two
// logarithms, indexes it without a modulo.
var gfExp [512]byte
var gfLog [256]byte

// genLog[d] holds the logarithms of the coefficients of the generator
// polynomial of degree d, (x-α^0)(x-α^1)…(x-α^(d-1)), highest degree first
// with the leading 1 left out. Storing logarithms rather than coefficients
// saves one table look-up per step of the division; it works because no
// coefficient of these polynomials is zero (TestGeneratorCoefficients).
var genLog [31][]byte

func init() {
	x := 1
	for i := 0; i < 255; i++ {
		gfExp[i] = byte(x)
		gfLog[x] = byte(i)
		x <<= 1
		if x&0x100 != 0 {
			x ^= 0x11D
		}
	}
	for i := 255; i < len(gfExp); i++ {
		gfExp[i] = gfExp[i-255]
	}
	for l := range eccPerBlock {
		for v := 1; v <= 40; v++ {
			d := int(eccPerBlock[l][v])
			if genLog[d] == nil {
				genLog[d] = generatorLog(d)
			}
		}
	}
}

func gfMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[int(gfLog[a])+int(gfLog[b])]
}

// generatorPoly returns the coefficients of the generator polynomial of
// degree d, highest degree first, leading 1 included.
func generatorPoly(d int) []byte {
	g := make([]byte, d+1)
	g[0] = 1
	for i := 0; i < d; i++ {
		// Multiply by (x - α^i); minus is plus in GF(2^8).
		r := gfExp[i]
		for j := i + 1; j >= 1; j-- {
			g[j] ^= gfMul(g[j-1], r)
		}
	}
	return g
}

func generatorLog(d int) []byte {
	g := generatorPoly(d)
	lg := make([]byte, d)
	for i, c := range g[1:] {
		lg[i] = gfLog[c]
	}
	return lg
}

// rsRemainder writes to ecc (of the generator's degree) the remainder of
// data·x^len(ecc) divided by the generator polynomial: the error correction
// codewords of one block. It is the usual shift-register division, with the
// register held in ecc itself.
func rsRemainder(data, ecc []byte) {
	g := genLog[len(ecc)]
	g = g[:len(ecc)]
	clear(ecc)
	for _, b := range data {
		f := b ^ ecc[0]
		copy(ecc, ecc[1:])
		ecc[len(ecc)-1] = 0
		if f != 0 {
			lf := int(gfLog[f])
			for i, lc := range g {
				ecc[i] ^= gfExp[lf+int(lc)]
			}
		}
	}
}
