// A link to the same page in the book's other edition (English / 한국어), in the menu bar of
// every page. The English edition is the book's root; each translation lives in a folder
// named after its language (ko/), with the same page names.
(function () {
  const editions = [
    { lang: "en", name: "English", folder: "" },
    { lang: "ko", name: "한국어", folder: "ko/" },
  ];
  const here = document.documentElement.lang || "en";
  const page = window.location.pathname.split("/").pop() || "index.html";
  // path_to_root is set by mdBook on every page: from this page to its edition's root.
  const editionRoot = typeof path_to_root === "string" ? path_to_root : "";
  const bookRoot = here === "en" ? editionRoot : editionRoot + "../";
  const buttons = document.querySelector(".right-buttons");
  if (!buttons) return;
  for (const edition of editions) {
    if (edition.lang === here) continue;
    const link = document.createElement("a");
    link.href = bookRoot + edition.folder + page + window.location.hash;
    link.hreflang = edition.lang;
    link.lang = edition.lang;
    link.className = "edition-switch";
    link.title = edition.lang === "en" ? "Read this page in English" : "이 페이지를 한국어로 읽기";
    link.textContent = edition.name;
    buttons.prepend(link);
  }
})();
