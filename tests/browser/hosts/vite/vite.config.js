// The configuration a docs writer adds for smtp-lab: keep it out of Vite's
// dependency pre-bundling, which would move the module away from its engine
// and recordings (vitejs/vite#8427). The site lives under /docs/.
export default {
  base: "/docs/",
  optimizeDeps: { exclude: ["smtp-lab"] },
};
