import { test } from "node:test";
import assert from "node:assert/strict";
import { detectLanguage, LANGUAGES } from "./language.js";

test("Latin-script languages by stopwords and telltale letters", () => {
  const cases: Array<[string, string]> = [
    ["Which port does the server use by default?", "en"],
    ["Wie kann ich den Server starten und was ist der Standardport?", "de"],
    ["Größe der Datei", "de"],
    ["Comment est-ce que je peux changer le port du serveur ?", "fr"],
    ["¿Cómo puedo cambiar el puerto del servidor?", "es"],
    ["Come posso cambiare la porta del server? Perché non funziona?", "it"],
    ["Como posso mudar a porta do servidor? Não funciona.", "pt"],
    ["Hoe kan ik de poort van de server wijzigen? Het werkt niet.", "nl"],
  ];
  for (const [text, lang] of cases) assert.equal(detectLanguage(text), lang, text);
});

test("other scripts by their dominant Unicode script", () => {
  const cases: Array<[string, string]> = [
    ["Какой порт использует сервер?", "ru"],
    ["Ποια θύρα χρησιμοποιεί ο διακομιστής;", "el"],
    ["ما هو المنفذ الذي يستخدمه الخادم؟", "ar"],
    ["באיזה פורט השרת משתמש?", "he"],
    ["सर्वर कौन सा पोर्ट उपयोग करता है?", "hi"],
    ["เซิร์ฟเวอร์ใช้พอร์ตอะไร", "th"],
    ["服务器使用哪个端口？", "zh"],
    ["サーバーはどのポートを使いますか？", "ja"],
    ["서버는 어떤 포트를 사용합니까?", "ko"],
    ["Как настроить Stratum gateway?", "ru"],
  ];
  for (const [text, lang] of cases) assert.equal(detectLanguage(text), lang, text);
});

test("nothing to go on is undetermined, and every answer is a known category", () => {
  for (const text of ["", "12345 !!!", "xyzzy plugh", "🙂🙂"]) assert.equal(detectLanguage(text), "und", text);
  const hostile = "a".repeat(1_000_000) + " the";
  assert.ok(LANGUAGES.includes(detectLanguage(hostile)));
});
