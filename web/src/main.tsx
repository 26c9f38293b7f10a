import { render } from "preact";
import { App } from "./app";
import { restore } from "./session";
import "./styles.css";

render(<App />, document.getElementById("app")!);
void restore();

// The service worker keeps the application shell for offline use (public/sw.js).
if ("serviceWorker" in navigator && import.meta.env.PROD) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js").catch((err) => console.warn("service worker:", err));
  });
}
