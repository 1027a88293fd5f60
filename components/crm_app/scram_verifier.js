// Prints the SCRAM-SHA-256 verifier of $CRM_PASSWORD (RFC 5802, RFC 7677) in the form
// PostgreSQL stores: the bootstrap sends this instead of the password, so a logged statement
// (an error, a lock wait) never contains the password. Passwords are letters and digits only,
// which SASLprep leaves unchanged.
const crypto = require("crypto");

const password = process.env.CRM_PASSWORD || "";
if (password.length === 0) {
  console.error("CRM_PASSWORD is empty");
  process.exit(1);
}
const iterations = Number(process.env.SCRAM_ITERATIONS || 4096);
const salt = process.env.SCRAM_SALT
  ? Buffer.from(process.env.SCRAM_SALT, "base64")
  : crypto.randomBytes(16);
const salted = crypto.pbkdf2Sync(password, salt, iterations, 32, "sha256");
const hmac = (key, text) => crypto.createHmac("sha256", key).update(text).digest();
const storedKey = crypto.createHash("sha256").update(hmac(salted, "Client Key")).digest();
const serverKey = hmac(salted, "Server Key");
process.stdout.write(
  `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}` +
    `$${storedKey.toString("base64")}:${serverKey.toString("base64")}`,
);
