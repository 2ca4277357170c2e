// Hand-over of a chéquier: by its typed number, or by its cover's
// activation QR code read with the camera (the server checks the code's
// signature). The camera and its QR decoder (jsQR) are the venue
// scanner's own, imported from /scanner/: one camera code for both pages.
import { Camera } from "/scanner/camera.js";
import { api, dateTime, day, clear, el, group, say, fail, invalid, plural, session, submit, table } from "./common.js";

const form = document.getElementById("activate");
const number = document.getElementById("a-number");
const ref = document.getElementById("a-ref");
const done = [];

function record(c) {
  done.unshift(c);
  document.getElementById("done").replaceChildren(table("Chéquiers remis depuis l'ouverture de la page",
    [{ label: "Chéquier", rowHeader: true }, { label: "Remis le" }, { label: "Référence" }],
    done.map((x) => [x.number, dateTime(x.activated_at), x.beneficiary_ref || "—"]), { id: "remis" }));
  say(`Chéquier ${c.number} remis : ses chèques sont utilisables.`, form);
  showStock();
}

// A reference already given to another chéquier is refused first (the
// field says which and when); the button beside it confirms a second
// chéquier for the same person, with the same request.
const same = document.getElementById("a-same");
let pending = null;

async function activate(body) {
  const r = ref.value.trim();
  if (r) body.beneficiary_ref = r;
  same.hidden = true;
  try {
    const c = await api("POST", "/api/v1/chequiers/activation", body);
    pending = null;
    form.reset();
    record(c);
  } catch (err) {
    if (err.code === "beneficiary_ref_used") {
      pending = body;
      same.hidden = false;
    }
    throw err;
  }
}

same.addEventListener("click", async () => {
  if (!pending) return;
  same.disabled = true;
  try {
    await activate({ ...pending, same_person: true });
  } catch (err) {
    fail(err, form);
  } finally {
    same.disabled = false;
  }
});

submit(form, async (data) => {
  const n = String(data.get("number") || "").trim();
  if (!n) throw invalid("number", "Tapez le numéro du chéquier, ou scannez son code d’activation.");
  await activate({ number: n });
});

// Camera scanning: the first code read is sent, then the camera stops.
const cam = document.getElementById("camera");
const status = document.getElementById("camera-status");
const scanButton = document.getElementById("scan");
let busy = false;

const cameraErrors = {
  unsupported: "La caméra n'est pas disponible sur cette page (elle demande une connexion HTTPS) : tapez le numéro du chéquier.",
  NotAllowedError: "L'accès à la caméra a été refusé : autorisez-le dans le navigateur, ou tapez le numéro du chéquier.",
  NotFoundError: "Aucune caméra n'a été trouvée : tapez le numéro du chéquier.",
  NotReadableError: "La caméra est déjà utilisée par une autre application : fermez-la, ou tapez le numéro du chéquier.",
};

const camera = new Camera(document.getElementById("video"), async (text) => {
  if (busy) return;
  busy = true;
  camera.stop();
  status.textContent = "Code lu : enregistrement de la remise…";
  try {
    await activate({ code: text.trim() });
  } catch (err) {
    fail(err, form);
  } finally {
    busy = false;
  }
}, (state) => {
  switch (state) {
    case "starting":
      cam.hidden = false;
      status.textContent = "Caméra en cours d'ouverture…";
      break;
    case "running":
      status.textContent = "Présentez le code QR d'activation de la couverture devant la caméra.";
      break;
    case "stopped":
      cam.hidden = true;
      break;
    default:
      cam.hidden = true;
      fail(cameraErrors[state] || "La caméra n’a pas pu être ouverte : tapez le numéro du chéquier.", form);
  }
});

scanButton.addEventListener("click", () => {
  clear();
  camera.start();
});
document.getElementById("stop").addEventListener("click", () => {
  camera.stop();
  scanButton.focus();
});

// The stock still to hand over: a structure's agent sees its structure's,
// the département's people every holder's (GET /api/v1/stock). Shown
// again after each hand-over.
async function showStock() {
  if (!session.department) return;
  let r;
  try {
    r = await api("GET", `/api/v1/stock?department=${encodeURIComponent(session.department)}`);
  } catch (err) {
    return; // a role without the stock: the section stays hidden
  }
  const rows = r.holdings.map((h) => [h.name || "Stock du département", `n° ${h.batch}`, group(h.count),
    h.since ? `${day(h.since.slice(0, 10))} (${h.age_days} ${plural(h.age_days, "jour", "jours")})` : "—"]);
  document.getElementById("stock").replaceChildren(rows.length
    ? table("Chéquiers pas encore remis, par détenteur et par commande",
      [{ label: "Détenteur", rowHeader: true }, { label: "Commande" }, { label: "Chéquiers", num: true }, { label: "Le plus ancien depuis" }],
      rows, { id: "stock-table" }, true)
    : el("p", {}, "Aucun chéquier à remettre pour l'instant."));
  document.getElementById("stock-section").hidden = false;
}
showStock();
