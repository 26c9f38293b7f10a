// Debian's Chromium as every browser test launches it (TESTING.md): headless, fake camera,
// microphone and screen granted without prompts, loopback WebRTC candidates, media that
// plays without a click, nothing fetched from the network. With `microphoneWav`, every
// fake microphone plays that file.
import { chromium } from "playwright-core";

export function launch(microphoneWav) {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless=new",
      "--no-sandbox",
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      "--allow-loopback-in-peer-connection",
      "--disable-features=WebRtcHideLocalIpsWithMdns",
      "--autoplay-policy=no-user-gesture-required",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      ...(microphoneWav ? [`--use-file-for-fake-audio-capture=${microphoneWav}`] : []),
    ],
  });
}
