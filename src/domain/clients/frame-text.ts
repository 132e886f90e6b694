/** The frame number as Blender writes it into file names: at least four digits. */
export function padFrame(frame: number): string {
  const sign = frame < 0 ? "-" : "";
  return sign + String(Math.abs(frame)).padStart(4 - sign.length, "0");
}
