<?xml version="1.0" encoding="utf-8"?>
<!-- Shows seedfeed's RSS and Atom feeds as a readable page when opened in a browser.
     Feed readers ignore it; the feed itself is unchanged. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="utf-8" indent="yes"
      doctype-system="about:legacy-compat"/>

  <xsl:template match="/">
    <xsl:variable name="title" select="/rss/channel/title | /atom:feed/atom:title"/>
    <xsl:variable name="home" select="/rss/channel/link | /atom:feed/atom:link[@rel='alternate']/@href"/>
    <html>
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> (feed)</title>
        <style>
          body{font:1.05rem/1.55 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;color:#222}
          a{color:#0645ad}.note{background:#f3f6fb;border:1px solid #d5deea;padding:.8rem 1rem;border-radius:6px}
          .meta{color:#666;font-size:.9rem;margin:0 0 .4rem}article{margin:0 0 1.6rem}h1{line-height:1.2}
          main h2{font-size:1.25rem;line-height:1.3;margin:0 0 .2rem}
        </style>
      </head>
      <body>
        <header>
          <p class="note">This is a <strong>web feed</strong>. Copy its address into your
            feed reader to subscribe; new articles will come to you.</p>
          <h1><xsl:value-of select="$title"/></h1>
          <p><xsl:value-of select="/rss/channel/description | /atom:feed/atom:subtitle"/></p>
          <p><a href="{$home}">Visit the site</a></p>
        </header>
        <main>
          <xsl:for-each select="/rss/channel/item">
            <article>
              <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
              <p class="meta"><xsl:value-of select="pubDate"/>
                <xsl:if test="category"> · <xsl:value-of select="category"/></xsl:if></p>
              <p><xsl:value-of select="description" disable-output-escaping="yes"/></p>
            </article>
          </xsl:for-each>
          <xsl:for-each select="/atom:feed/atom:entry">
            <article>
              <h2><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h2>
              <p class="meta"><xsl:value-of select="substring(atom:published, 1, 10)"/>
                <xsl:if test="atom:category"> · <xsl:value-of select="atom:category/@term"/></xsl:if></p>
              <p><xsl:value-of select="atom:summary"/></p>
            </article>
          </xsl:for-each>
        </main>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
